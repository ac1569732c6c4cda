using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// A channel of equal values (variance exactly 0) under a contract that makes its mean exact (double
/// sums): the mean must be exact, and y may differ from beta only by the roundings of a folded
/// y = x·a + b' (docs/tolerances.md, "Where exactness is the claim"); applied centred, not at all.
/// Channel 0 of constant-channel/nchw/train is 160 copies of 100.3, where a = gamma/sqrt(eps) is about 316 gamma.
/// </summary>
public class ZeroVarianceTests
{
    private static readonly VerificationCase Case = Battery.For(Suite.Quick).Single(c => c.Name == "constant-channel/nchw/train");
    private static readonly CaseInputs Inputs = CaseInputs.Draw(Case, Battery.DefaultSeed);
    private static readonly NumericalContract Folded = NumericalContract.Parse("double/two-pass/folded");
    private static readonly IReadOnlyList<ExpectedOutput> Expected = ExpectedOutputs.Compute(Case, Inputs, Folded);

    public static TheoryData<string> Folds => ["no FMA", "FMA", "b' from the unrounded a"];

    [Theory]
    [MemberData(nameof(Folds))]
    public void AFoldedYWithAnExactMeanPassesTightly(string fold)
    {
        float gamma = Inputs.Gamma[0], beta = Inputs.Beta[0], istd = (float)(1 / Math.Sqrt(Case.Options.Epsilon)), a = gamma * istd;
        var y = WithChannelZero(x =>
        {
            float product = x * a;
            return fold switch
            {
                "no FMA" => product + (beta - product),
                "FMA" => MathF.FusedMultiplyAdd(x, a, beta - product),
                "b' from the unrounded a" => product + (float)(beta - (x * (double)gamma * istd)),
                _ => throw new ArgumentOutOfRangeException(nameof(fold)),
            };
        });
        var comparison = Compare(BatchNormOutput.Y, y);

        Assert.True(comparison.Passed, string.Join("; ", comparison.Findings));
        Assert.True(comparison.MaxAbsoluteError > 0, "the fold must really round here, or the test shows nothing");
        Assert.InRange(comparison.WorstRatio, 0.05, 1);
    }

    [Fact]
    public void AMeanEightUlpOffFailsYAndOneUlpOffFailsTheBatchMean()
    {
        float gamma = Inputs.Gamma[0], beta = Inputs.Beta[0], istd = (float)(1 / Math.Sqrt(Case.Options.Epsilon));
        float x0 = Inputs.X[Case.Shape.ChannelOffsets(0).First()];
        float eightUlp = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(x0) + 8);
        var y = Compare(BatchNormOutput.Y, WithChannelZero(x => ((x - eightUlp) * istd * gamma) + beta));
        Assert.False(y.Passed);
        Assert.Contains(y.Findings, f => f.Contains("channel 0", StringComparison.Ordinal));

        var kernel = KernelRun.Execute(KernelCatalog.Create("optimized"), Case, Inputs);
        float[] mean = kernel.Outputs[BatchNormOutput.BatchMean].ToArray();
        Assert.Equal(x0, mean[0]);   // the optimized kernel's mean of equal values is exact
        mean[0] = MathF.BitIncrement(mean[0]);
        Assert.False(Compare(BatchNormOutput.BatchMean, mean).Passed);
    }

    /// <summary>The optimized kernel's y with channel 0 recomputed element by element.</summary>
    private static float[] WithChannelZero(Func<float, float> element)
    {
        float[] y = KernelRun.Execute(KernelCatalog.Create("optimized"), Case, Inputs).Outputs[BatchNormOutput.Y].ToArray();
        foreach (int i in Case.Shape.ChannelOffsets(0))
            y[i] = element(Inputs.X[i]);
        return y;
    }

    private static OutputComparison Compare(BatchNormOutput output, float[] actual) =>
        OutputComparison.Compare(Expected.Single(e => e.Name == output), actual, Case.Shape);
}

/// <summary>The zero-variance claims follow the contract: exact where it makes the mean exact, the float sum's own bound where it does not.</summary>
public class ZeroVarianceContractTests
{
    private static readonly VerificationCase Case = Battery.For(Suite.Quick).Single(c => c.Name == "constant-channel/nchw/train");
    private static readonly CaseInputs Inputs = CaseInputs.Draw(Case, Battery.DefaultSeed);

    private static OutputComparison Compare(string contract, BatchNormOutput output, float[] actual) =>
        OutputComparison.Compare(ExpectedOutputs.Compute(Case, Inputs, NumericalContract.Parse(contract)).Single(e => e.Name == output), actual, Case.Shape);

    private static float[] Optimized(BatchNormOutput output) => KernelRun.Execute(KernelCatalog.Create("optimized"), Case, Inputs).Outputs[output].ToArray();

    [Fact]
    public void AFloatPairwiseMeanOneUlpOffPassesUnderItsContractAndFailsWhereTheMeanIsExact()
    {
        // A float pairwise sum of 160 equal values may be an ULP off (the report); it is within that sum's bound.
        float[] mean = Optimized(BatchNormOutput.BatchMean);
        mean[0] = MathF.BitIncrement(mean[0]);
        Assert.True(Compare("float-pairwise/two-pass/folded", BatchNormOutput.BatchMean, mean).Passed);
        Assert.False(Compare("double/two-pass/folded", BatchNormOutput.BatchMean, mean).Passed);
        Assert.False(Compare("float-pairwise/welford/folded", BatchNormOutput.BatchMean, mean).Passed);
    }

    [Fact]
    public void ACentredYOfAnExactMeanIsBetaExactly()
    {
        float[] y = Optimized(BatchNormOutput.Y);
        int first = Case.Shape.ChannelOffsets(0).First();
        Assert.Equal(Inputs.Beta[0], y[first]);
        Assert.True(Compare("double/two-pass/centred", BatchNormOutput.Y, y).Passed);
        y[first] = MathF.BitIncrement(y[first]);
        var centred = Compare("double/two-pass/centred", BatchNormOutput.Y, y);
        Assert.False(centred.Passed);
        Assert.True(Compare("double/two-pass/folded", BatchNormOutput.Y, y).Passed, "one ULP of beta is within a fold's roundings");
    }
}
