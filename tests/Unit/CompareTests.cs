using System.Text;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Npy;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>.npy reading and writing, and <c>compare</c> on tensors written by the project and by hand.</summary>
public sealed class CompareTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("bnverify-compare-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void AHandMadeHeaderParses()
    {
        // Version 1.0, header padded with spaces and ending in a newline, as numpy.save writes it.
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        foreach (float v in new[] { 1f, -2.5f, 3f, float.NaN, 1e-40f, 6f })
            bytes.AddRange(BitConverter.GetBytes(v));
        var array = NpyArray.Parse(bytes.ToArray(), "hand-made");
        Assert.Equal([2L, 3L], array.Shape);
        Assert.False(array.IsFloat64);
        Assert.Equal(1e-40f, array.ToFloat32()[4]);   // a subnormal survives
        Assert.True(float.IsNaN(array.ToFloat32()[3]));
    }

    [Theory]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "dtype '>f4' is not supported")]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", "dtype '<i4' is not supported")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "only C order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", "needs 12 data bytes, the file has 8")]
    public void UnsupportedFilesAreRefusedWithAReason(string header, string reason)
    {
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(new byte[8]);
        var error = Assert.Throws<InvalidDataException>(() => NpyArray.Parse(bytes.ToArray(), "bad.npy"));
        Assert.Contains(reason, error.Message);
        Assert.Contains("bad.npy", error.Message);
    }

    [Fact]
    public void WrittenFilesReadBackBitForBit()
    {
        float[] values = [0f, -0f, float.Epsilon, float.MaxValue, float.NegativeInfinity, 1.1f];
        string path = Path.Combine(folder, "v.npy");
        NpyArray.WriteFloat32(path, values, 2, 3);
        var array = NpyArray.Read(path);
        Assert.Equal([2L, 3L], array.Shape);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), array.ToFloat32().Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(Layout.ChannelsFirst)]
    [InlineData(Layout.ChannelsLast)]
    public void TensorsFromTheOptimizedKernelPassAndAOneElementChangeFails(Layout layout)
    {
        var @case = new VerificationCase { Name = "npy", Shape = new TensorShape(4, 3, 10, layout), Pass = BatchNormPass.ForwardTraining };
        var inputs = CaseInputs.Draw(@case, 5);
        var run = KernelRun.Execute(KernelCases.OptimizedAt("optimized"), @case, inputs);
        long[] dims = layout == Layout.ChannelsFirst ? [4, 3, 2, 5] : [4, 2, 5, 3];
        string x = Write("x", inputs.X, dims), y = Write("y", run.Outputs[BatchNormOutput.Y], dims);
        var external = new ExternalRun
        {
            Pass = BatchNormPass.ForwardTraining,
            Layout = layout,
            Options = BatchNormOptions.PyTorch,
            Inputs = new Dictionary<BatchNormInput, string>
            {
                [BatchNormInput.X] = x,
                [BatchNormInput.Gamma] = Write("gamma", inputs.Gamma, 3),
                [BatchNormInput.Beta] = Write("beta", inputs.Beta, 3),
                [BatchNormInput.RunningMean] = Write("rm", inputs.RunningMean, 3),
                [BatchNormInput.RunningVariance] = Write("rv", inputs.RunningVariance, 3),
            },
            Outputs = new Dictionary<BatchNormOutput, string>
            {
                [BatchNormOutput.Y] = y,
                [BatchNormOutput.BatchMean] = Write("mean", run.Outputs[BatchNormOutput.BatchMean], 3),
                [BatchNormOutput.BatchVariance] = Write("var", run.Outputs[BatchNormOutput.BatchVariance], 3),
                [BatchNormOutput.RunningMean] = Write("rm-out", run.Outputs[BatchNormOutput.RunningMean], 3),
                [BatchNormOutput.RunningVariance] = Write("rv-out", run.Outputs[BatchNormOutput.RunningVariance], 3),
            },
        };
        var passed = ExternalComparison.Run(external);
        Assert.Equal(Verdict.Passed, passed.Verdict);
        Assert.Equal(5, passed.Outputs.Count);

        float[] wrong = run.Outputs[BatchNormOutput.Y].ToArray();
        wrong[17] = MathF.BitIncrement(MathF.BitIncrement(wrong[17] * 1.0001f));
        var failed = ExternalComparison.Run(external with { Outputs = new Dictionary<BatchNormOutput, string> { [BatchNormOutput.Y] = Write("y-wrong", wrong, dims) } });
        Assert.Equal(Verdict.Failed, failed.Verdict);
        Assert.Equal(17, failed.Outputs.Single().FirstFailures.Single().Index);
    }

    /// <summary>
    /// --contract judges the same files by the producing kernel's contract: PyTorch's large-mean channels-first forward
    /// passes under the default and under the contract it meets, and fails as double/two-pass/centred (it folds, and its sums are float).
    /// </summary>
    [Fact]
    public void TheContractOptionJudgesByThatContract()
    {
        string fixture = Path.Combine(Bnverify.RepositoryRoot(), "tests", "Fixtures", "PyTorch", "mean-1e3-nchw-train-forward");
        string[] common = ["compare", "--x", Path.Combine(fixture, "x.npy"), "--gamma", Path.Combine(fixture, "gamma.npy"), "--beta", Path.Combine(fixture, "beta.npy"),
            "--y", Path.Combine(fixture, "y.npy")];
        var byDefault = Bnverify.Run(common);
        Assert.True(byDefault.ExitCode == 0, byDefault.Output + byDefault.Error);
        Assert.StartsWith("judged by contract float-pairwise/rounded-centre/folded (the default", byDefault.Output);
        var asPyTorch = Bnverify.Run([.. common, "--contract", "float-lanes:8/two-pass/folded-fma"]);
        Assert.True(asPyTorch.ExitCode == 0, asPyTorch.Output + asPyTorch.Error);
        var asDouble = Bnverify.Run([.. common, "--contract", "double/two-pass/centred"]);
        Assert.Equal(1, asDouble.ExitCode);
        Assert.Contains("judged by contract double/two-pass/centred", asDouble.Output);
    }

    [Fact]
    public void TheCommandChecksBackwardTensorsAndExitsByTheRules()
    {
        var @case = new VerificationCase { Name = "npy", Shape = new TensorShape(5, 4, 6, Layout.ChannelsFirst), Pass = BatchNormPass.BackwardTraining };
        var inputs = CaseInputs.Draw(@case, 9);
        var run = KernelRun.Execute(KernelCases.OptimizedAt("optimized"), @case, inputs);
        string[] common =
        [
            "compare", "--pass", "backward", "--x", Write("x", inputs.X, 5, 4, 6), "--gamma", Write("g", inputs.Gamma, 4), "--dy", Write("dy", inputs.Dy, 5, 4, 6),
            "--saved-mean", Write("sm", inputs.SavedMean, 4), "--saved-invstd", Write("si", inputs.SavedInvStd, 4),
        ];
        var ok = Bnverify.Run([.. common, "--dx", Write("dx", run.Outputs[BatchNormOutput.Dx], 5, 4, 6), "--dgamma", Write("dg", run.Outputs[BatchNormOutput.DGamma], 4), "--dbeta", Write("db", run.Outputs[BatchNormOutput.DBeta], 4)]);
        Assert.True(ok.ExitCode == 0, ok.Output + ok.Error);
        Assert.Contains("dx", ok.Output);

        float[] badDbeta = run.Outputs[BatchNormOutput.DBeta].Select(v => v + 0.01f).ToArray();
        var bad = Bnverify.Run([.. common, "--dbeta", Write("db-bad", badDbeta, 4)]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("reproduce: dotnet run --project src/Cli -c Release -- compare", bad.Output);

        var missing = Bnverify.Run("compare", "--x", Path.Combine(folder, "missing.npy"), "--y", Path.Combine(folder, "missing.npy"));
        Assert.Equal(2, missing.ExitCode);
    }

    private string Write(string name, float[] values, params long[] shape)
    {
        string path = Path.Combine(folder, name + ".npy");
        NpyArray.WriteFloat32(path, values, shape);
        return path;
    }
}
