using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels.Algorithms;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit.Contracts;

/// <summary>
/// Kernels that compute exactly as a contract says (<see cref="AlgorithmKernel"/>) pass every case under their
/// own contract, and each fails under a tighter one on a named case: the bounds admit each legitimate
/// algorithm and no more than it needs.
/// </summary>
public class AlgorithmKernelTests
{
    public static TheoryData<string> Contracts =>
    [
        "double/two-pass/centred", "double/rounded-centre/folded", "double/welford/folded-fma",
        "float-pairwise/two-pass/centred", "float-pairwise/rounded-centre/folded", "float-pairwise/welford/folded-fma",
        "float-blocked:8/welford/folded", "float-blocked:64/welford/centred", "float-blocked:1024/welford/folded-fma",
        "float-lanes:16/two-pass/folded-fma", "float-sequential/two-pass/folded",
    ];

    [Theory]
    [MemberData(nameof(Contracts))]
    public void EveryQuickCaseAndActivationPassesUnderItsOwnContract(string contract)
    {
        var kernel = new AlgorithmKernel(NumericalContract.Parse(contract));
        foreach (var activation in new[] { Activation.None, Activation.Relu })
        {
            var failed = Verifier.Run(kernel, Battery.For(Suite.Quick, activation), Battery.DefaultSeed).Where(r => r.Verdict != Verdict.Passed).ToList();
            Assert.True(failed.Count == 0, string.Join("\n", failed.Take(2).Select(TextReport.Failure)));
        }
    }

    /// <summary>The full suite too (its long channels, huge values and 1e6 means), for one kernel of each statistics form.</summary>
    [Theory]
    [InlineData("double/rounded-centre/folded")]
    [InlineData("float-blocked:64/welford/folded-fma")]
    [InlineData("float-sequential/two-pass/folded")]
    public void EveryFullCasePassesUnderItsOwnContract(string contract)
    {
        var failed = Verifier.Run(new AlgorithmKernel(NumericalContract.Parse(contract)), Battery.For(Suite.Full), Battery.DefaultSeed)
            .Where(r => r.Verdict != Verdict.Passed).ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed.Take(2).Select(TextReport.Failure)));
    }

    /// <summary>The kernel, a tighter contract, and the case and output where the kernel's legitimate rounding leaves the tighter bound.</summary>
    public static TheoryData<string, string, string, string> Tighter => new()
    {
        // Float sums against double ones: the mean's sum error.
        { "float-blocked:64/two-pass/folded-fma", "double/rounded-centre/folded", "normal/nchw/train", "batchMean" },
        // A fold's intercept rounding (b' = beta - m a) against a centred apply, where the statistics are exact.
        { "float-blocked:64/two-pass/folded-fma", "float-pairwise/two-pass/centred", "exact-pairs/nchw/train", "y" },
        // Welford's variance on mean-100, spread-1 channels against the pairwise two-pass bound (the 22u against 14u).
        { "float-blocked:64/welford/centred", "float-pairwise/two-pass/folded", "constant-channel/nchw/train", "batchVariance" },
        // A variance about the float-rounded mean against one about the exact mean, at a mean 1e6 times the spread.
        { "double/rounded-centre/folded", "double/two-pass/folded", "large-mean-1e4/nchw/train", "batchVariance" },
        // A fold without an FMA: x a rounds on |x a|, against the FMA's single rounding on y.
        { "float-pairwise/rounded-centre/folded", "float-pairwise/rounded-centre/folded-fma", "large-mean-1e4/nchw/train", "y" },
    };

    [Theory]
    [MemberData(nameof(Tighter))]
    public void EachFailsUnderATighterContractOnANamedCase(string own, string tighter, string caseName, string output)
    {
        var kernel = new AlgorithmKernel(NumericalContract.Parse(own));
        var @case = Verifier.Select(Suite.Quick, caseName).Single();
        Assert.Equal(Verdict.Passed, CaseRunner.Run(kernel, @case, Battery.DefaultSeed).Verdict);
        var judged = CaseRunner.Run(kernel, @case, Battery.DefaultSeed, NumericalContract.Parse(tighter));
        Assert.Contains(judged.Outputs, o => o.Output.Name() == output && !o.Passed);
    }

    [Fact]
    public void ProfileFindsAKernelsOwnContractWhereTheSuiteTellsItsPartsApart()
    {
        var train = Profile("double/two-pass/centred");
        Assert.Equal(NumericalContract.Parse("double/two-pass/centred"), train);
        var welford = Profile("float-blocked:64/welford/centred")!;
        Assert.Equal((StatisticsForm.Welford, ApplyForm.Centred), (welford.Statistics, welford.Apply));
        Assert.NotEqual(Accumulation.Double, welford.Sums);
        var rounded = Profile("double/rounded-centre/folded")!;
        Assert.Equal((Accumulation.Double, StatisticsForm.RoundedCentre), (rounded.Sums, rounded.Statistics));

        static NumericalContract? Profile(string contract) =>
            ContractProfile.Profile(new AlgorithmKernel(NumericalContract.Parse(contract)), Battery.For(Suite.Quick), Battery.DefaultSeed)
                .Single(p => p.Pass == BatchNormPass.ForwardTraining && p.Layout == Layout.ChannelsFirst).Tightest;
    }

    [Fact]
    public void AWelfordKernelsMeanOfAnInfiniteChannelMayBeNaNUnderItsContractOnly()
    {
        var @case = Verifier.Select(Suite.Quick, "inf-channel/nchw/train").Single();
        var welford = new AlgorithmKernel(NumericalContract.Parse("float-sequential/welford/centred"));
        var run = CaseRunner.Run(welford, @case, Battery.DefaultSeed);
        Assert.True(run.Verdict == Verdict.Passed, TextReport.Failure(run));
        var inputs = CaseInputs.Draw(@case, Battery.DefaultSeed);
        Assert.Contains(KernelRun.Execute(welford, @case, inputs).Outputs[BatchNormOutput.BatchMean], float.IsNaN);
        var asTwoPass = CaseRunner.Run(welford, @case, Battery.DefaultSeed, NumericalContract.Parse("float-sequential/rounded-centre/centred"));
        Assert.Contains(asTwoPass.Outputs, o => o.Output == BatchNormOutput.BatchMean && o.NonFiniteMismatches > 0);
    }
}
