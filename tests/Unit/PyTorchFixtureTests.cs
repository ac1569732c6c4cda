using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Npy;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// PyTorch's own float32 CPU batch norm passes <c>compare</c> (the structured model admits its folded
/// y = x·a + b' and its float saved statistics), and each deliberate corruption of its outputs fails
/// with a diagnosis that names the pattern, on ordinary and on large-mean fixtures.
/// </summary>
public sealed class PyTorchFixtureTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("bnverify-fixtures-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<string> All => [.. PyTorchFixture.Names];

    public static TheoryData<string> Forward => [.. PyTorchFixture.Names.Where(n => n.EndsWith("-forward", StringComparison.Ordinal))];

    public static TheoryData<string> Backward => [.. PyTorchFixture.Names.Where(n => n.EndsWith("-backward", StringComparison.Ordinal))];

    /// <summary>The training-backward fixtures: the ones with saved statistics to leave out.</summary>
    public static TheoryData<string> TrainingBackward => [.. PyTorchFixture.Names.Where(n => n.EndsWith("-backward", StringComparison.Ordinal) && n.Contains("-train", StringComparison.Ordinal))];

    /// <summary>Fixtures whose mean is at most 1e4 times the spread: where the corruptions below exceed what a correct kernel may do.</summary>
    public static TheoryData<string> ForwardUpTo1e4 => [.. PyTorchFixture.Names.Where(n => n.EndsWith("-forward", StringComparison.Ordinal) && !n.Contains("1e6", StringComparison.Ordinal))];

    /// <summary>Fixtures of ordinary conditioning (mean at most a few spreads from 0).</summary>
    public static TheoryData<string> OrdinaryForward => [.. PyTorchFixture.Names.Where(n => n.EndsWith("-forward", StringComparison.Ordinal) && !n.StartsWith("mean-", StringComparison.Ordinal))];

    /// <summary>The large-mean fixtures.</summary>
    public static TheoryData<string> LargeMeanForward => [.. PyTorchFixture.Names.Where(n => n.EndsWith("-forward", StringComparison.Ordinal) && n.StartsWith("mean-", StringComparison.Ordinal))];

    [Fact]
    public void TheFixturesCoverWhatTheyClaim()
    {
        var fixtures = PyTorchFixture.Names.Select(PyTorchFixture.Load).ToArray();
        foreach (var pass in Enum.GetValues<BatchNormPass>())
            Assert.Contains(fixtures, f => f.Pass == pass);
        Assert.Contains(fixtures, f => f.Layout == Layout.ChannelsLast && f.Pass == BatchNormPass.BackwardTraining);
        Assert.Contains(fixtures, f => f.Name.StartsWith("dense", StringComparison.Ordinal));
        Assert.Contains(fixtures, f => f.Name.StartsWith("mean-1e3", StringComparison.Ordinal));
        Assert.Contains(fixtures, f => f.Name.StartsWith("mean-1e4", StringComparison.Ordinal));
    }

    [RequiresTorchFact]
    public void TheCommittedFixturesAreWhatPyTorchGives()
    {
        string output = Path.Combine(folder, "regenerated");
        string script = Path.Combine(Bnverify.RepositoryRoot(), "tools", "pytorch-fixtures", "make_fixtures.py");
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(RequiresTorchFactAttribute.Python, [script, output])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        string errors = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(300_000) && process.ExitCode == 0, errors);
        var committed = Directory.GetFiles(PyTorchFixture.Root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(PyTorchFixture.Root, f)).Order(StringComparer.Ordinal).ToArray();
        var made = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(committed, made);
        foreach (string file in committed)
            Assert.True(File.ReadAllBytes(Path.Combine(PyTorchFixture.Root, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(output, file))), $"{file} differs from what PyTorch gives now");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void PyTorchsOwnOutputsPass(string name)
    {
        var result = ExternalComparison.Run(PyTorchFixture.Load(name).Run);
        Assert.True(result.Verdict == Verdict.Passed, Harness.Reports.TextReport.Failure(result));
    }

    [Theory]
    [MemberData(nameof(TrainingBackward))]
    public void TrainingBackwardPassesWithoutPyTorchsSavedStatistics(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        Assert.Equal(BatchNormPass.BackwardTraining, fixture.Pass);
        Assert.Contains(BatchNormInput.SavedMean, fixture.Inputs.Keys);
        var result = ExternalComparison.Run(fixture.RunWithoutSavedStatistics);
        Assert.True(result.Case.SavedStatisticsFromKernel);
        Assert.True(result.Verdict == Verdict.Passed, Harness.Reports.TextReport.Failure(result));
    }

    [Theory]
    [MemberData(nameof(OrdinaryForward))]
    public void SixtyFourUlpOnTheLargestYFailsThatElementAlone(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        float[] y = fixture.Read(BatchNormOutput.Y);
        int i = Array.IndexOf(y, y.MaxBy(MathF.Abs));
        y[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(y[i]) + 64);
        var output = Compare(fixture, BatchNormOutput.Y, y);
        Assert.False(output.Passed);
        Assert.Equal(i, Assert.Single(output.FirstFailures).Index);
        Assert.Contains(output.Findings, f => f.StartsWith("element-wise: 1 isolated element", StringComparison.Ordinal));
        Assert.Empty(output.SystematicFailures);
    }

    [Theory]
    [MemberData(nameof(OrdinaryForward))]
    public void SixtyFourUlpOnASmallYFailsWhereItExceedsTheElementwiseRounding(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        float[] y = fixture.Read(BatchNormOutput.Y);
        double[] bound = Bounds(fixture, BatchNormOutput.Y, y);
        // The smallest |y| whose 64 ULPs are at least twice the bound its residual is held to.
        int i = Enumerable.Range(0, y.Length).Where(k => 64 * Ulp(y[k]) >= 2 * bound[k]).MinBy(k => Math.Abs(y[k]));
        Assert.True(Math.Abs(y[i]) < y.Max(MathF.Abs) / 2, "a small element qualifies");
        y[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(y[i]) + 64);
        var output = Compare(fixture, BatchNormOutput.Y, y);
        Assert.Equal(i, Assert.Single(output.FirstFailures).Index);
    }

    [Theory]
    [MemberData(nameof(LargeMeanForward))]
    public void SixtyFourUlpIsBelowANoFmaFoldsRoundingOnLargeMeansButNotBelowPyTorchsContract(string name)
    {
        // Where the mean is 1e3 times the spread or more, a correct kernel that folds y = x·a + b'
        // without a fused multiply-add rounds x·a (of size |mean|·|a|) on every element. 64 ULPs of
        // y are below that everywhere: under the default contract (which admits such a kernel) no sound
        // verifier can reject them. PyTorch folds with an FMA, whose only per-element rounding is y's:
        // under the contract it meets the same 64 ULPs on one element fail, and that element is the one reported.
        var fixture = PyTorchFixture.Load(name);
        float[] y = fixture.Read(BatchNormOutput.Y);
        var (@case, inputs) = ExternalComparison.Load(fixture.Run);
        var model = ExpectedOutputs.Compute(@case, inputs, NumericalContract.Default).Single(o => o.Name == BatchNormOutput.Y).Model!;
        Assert.All(Enumerable.Range(0, y.Length), k => Assert.True(64 * Ulp(y[k]) < model.ResidualBounds[k]));

        int i = Array.IndexOf(y, y.MaxBy(MathF.Abs));
        y[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(y[i]) + 64);
        var output = Compare(fixture, BatchNormOutput.Y, y, Measured);
        Assert.False(output.Passed);
        Assert.Equal(i, Assert.Single(output.FirstFailures).Index);
    }

    [Theory]
    [MemberData(nameof(Forward))]
    public void ThreeTailElementsReplacedByBetaFailAsAVectorTail(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        float[] y = fixture.Read(BatchNormOutput.Y), beta = NpyArray.Read(fixture.Inputs[BatchNormInput.Beta]).ToFloat32();
        var expected = Expected(fixture, BatchNormOutput.Y);
        double[] bound = Bounds(fixture, BatchNormOutput.Y, y);
        var (@case, _) = ExternalComparison.Load(fixture.Run);
        var shape = @case.Shape;
        int runLength = shape.Layout == Layout.ChannelsLast || shape.S == 1 ? shape.C : shape.S;
        // The first run whose last three elements are far from beta (|gamma·xhat| above 4 times their bound).
        int run = Enumerable.Range(0, y.Length / runLength).First(r => Enumerable.Range(1, 3).All(k =>
        {
            int i = ((r + 1) * runLength) - k;
            return Math.Abs(expected.Values[i] - beta[shape.CoordinatesOf(i).C]) > 4 * bound[i];
        }));
        for (int k = 1; k <= 3; k++)
        {
            int i = ((run + 1) * runLength) - k;
            y[i] = beta[shape.CoordinatesOf(i).C];
        }

        var output = Compare(fixture, BatchNormOutput.Y, y);
        Assert.False(output.Passed);
        Assert.Equal(3, output.OverBound);
        Assert.Contains(output.Findings, f => f.Contains("the last 3", StringComparison.Ordinal) && f.Contains("(a vector tail): 3 elements in 1 of", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ForwardUpTo1e4))]
    public void OneLaneOfOneChannel16UlpOffFailsAsALane(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        float[] y = fixture.Read(BatchNormOutput.Y);
        var (@case, _) = ExternalComparison.Load(fixture.Run);
        var shape = @case.Shape;
        double[] bound = Bounds(fixture, BatchNormOutput.Y, y);
        Assert.True(shape.M > 32, "every fixture's channels hold at least two 16-lane vectors");
        // Lane 5 of every 16-wide vector of channel 1: in a channels-first run the 16 lanes run along
        // s; in channels-last the channel's own elements are one lane of the row loop, so every
        // 16th of them in its own order stands for one lane of a vector over samples.
        int channel = 1;
        var lane = shape.ChannelOffsets(channel).Where((i, k) => shape.Layout == Layout.ChannelsFirst ? shape.CoordinatesOf(i).S % 16 == 5 : k % 16 == 5).ToArray();
        if (lane.Count(i => 16 * Ulp(y[i]) > 2 * bound[i]) < 3)
        {
            // Means far from 0 (uniform data offset by several spreads, large means): 16 ULPs of y
            // are below a folded kernel's rounding of x·a (see above). Data centred on 0 always qualifies.
            Assert.False(name.StartsWith("normal-", StringComparison.Ordinal), "normal data leaves room for the lane test");
            return;
        }

        foreach (int i in lane)
            y[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(y[i]) + 16);
        var output = Compare(fixture, BatchNormOutput.Y, y);
        Assert.False(output.Passed);
        Assert.Contains(output.Findings, f => f.StartsWith("element-wise: one lane", StringComparison.Ordinal) && f.Contains("channel 1", StringComparison.Ordinal)
            && f.Contains("5 mod 16", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ForwardUpTo1e4))]
    public void OneChannelScaledBy1Plus2ToMinus10FailsAsSystematic(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        float[] y = fixture.Read(BatchNormOutput.Y), beta = NpyArray.Read(fixture.Inputs[BatchNormInput.Beta]).ToFloat32();
        var (@case, _) = ExternalComparison.Load(fixture.Run);
        int channel = @case.Shape.C - 1;
        foreach (int i in @case.Shape.ChannelOffsets(channel))
            y[i] = (float)(beta[channel] + ((y[i] - (double)beta[channel]) * (1 + Math.ScaleB(1, -10))));
        var output = Compare(fixture, BatchNormOutput.Y, y, Measured);
        Assert.False(output.Passed);
        var failure = Assert.Single(output.SystematicFailures);
        Assert.Equal(channel, failure.Channel);
        Assert.Contains(output.Findings, f => f.StartsWith($"systematic, y channel {channel}: ", StringComparison.Ordinal)
            && System.Text.RegularExpressions.Regex.IsMatch(f, @"istd off by 0\.00097[6-8] relative"));
    }

    [Theory]
    [MemberData(nameof(Backward))]
    public void DxWithTheLastTwoElementsOfEachChannelZeroedFails(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        float[] dx = fixture.Read(BatchNormOutput.Dx);
        var (@case, _) = ExternalComparison.Load(fixture.Run);
        var shape = @case.Shape;
        for (int c = 0; c < shape.C; c++)
        {
            foreach (int i in shape.ChannelOffsets(c).Skip(shape.M - 2))
                dx[i] = 0;
        }

        var output = Compare(fixture, BatchNormOutput.Dx, dx);
        Assert.False(output.Passed);
        Assert.InRange(output.OverBound, shape.C, 2 * shape.C);
        // Channels-first: the last 2 elements of the last run of every channel. Channels-last and
        // dense: the last two rows, i.e. the last sample.
        string pattern = shape.Layout == Layout.ChannelsFirst && shape.S > 1 ? "(a vector tail)"
            : shape.S > 1 ? $"one sample: n = {shape.N - 1}" : $"2 samples: n = {shape.N - 2}, {shape.N - 1}";
        Assert.Contains(output.Findings, f => f.StartsWith("element-wise: ", StringComparison.Ordinal) && f.Contains(pattern, StringComparison.Ordinal));
    }

    /// <summary>
    /// The contract PyTorch 1.13 meets on every fixture and every case of the suites (bnverify profile, check): sums
    /// no worse than 8 lanes. It declares float-sequential, what its channels-last algorithm guarantees; judged by
    /// that, a sequential sum's worst case at a mean 1e4 times the spread in channels-last admits a channel scaled by
    /// 1 + 2^-10 and 64 ULP of y. The corruption tests below show what the measured contract catches there.
    /// </summary>
    private static readonly NumericalContract Measured = NumericalContract.Parse("float-lanes:8/two-pass/folded-fma");

    private OutputComparison Compare(PyTorchFixture fixture, BatchNormOutput output, float[] values, NumericalContract? contract = null)
    {
        string path = Path.Combine(folder, output.Name() + ".npy");
        NpyArray.WriteFloat32(path, values, fixture.ShapeOf(output));
        var result = ExternalComparison.Run(fixture.Run with { Outputs = new Dictionary<BatchNormOutput, string> { [output] = path }, Contract = contract ?? fixture.Run.Contract });
        return result.Outputs.Single();
    }

    private static ExpectedOutput Expected(PyTorchFixture fixture, BatchNormOutput output)
    {
        var (@case, inputs) = ExternalComparison.Load(fixture.Run);
        return ExpectedOutputs.Compute(@case, inputs, fixture.Run.Contract).Single(o => o.Name == output);
    }

    /// <summary>The bound each element's residual is held to, fitted on PyTorch's clean output.</summary>
    private static double[] Bounds(PyTorchFixture fixture, BatchNormOutput output, float[] clean)
    {
        var (@case, _) = ExternalComparison.Load(fixture.Run);
        return OutputComparison.ElementBounds(Expected(fixture, output), clean, @case.Shape);
    }

    private static double Ulp(float value) => MathF.BitIncrement(MathF.Abs(value)) - MathF.Abs(value);
}
