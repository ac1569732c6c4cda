using System.Runtime.InteropServices;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Ratchet;
using BatchNorm.Harness.Verification;
using Xunit;
using static BatchNorm.Tests.Unit.KernelCases;

namespace BatchNorm.Tests.Unit;

/// <summary>The verifier accepts the correct kernel, is tight on ordinary data, and rejects each planted bug.</summary>
public class VerifierTests
{
    private static IReadOnlyList<CaseResult> Quick(IBatchNormKernel kernel) => Verifier.Run(kernel, Battery.For(Suite.Quick), Battery.DefaultSeed);

    [Theory]
    [MemberData(nameof(OptimizedWidths), MemberType = typeof(KernelCases))]
    public void TheCorrectKernelPassesTheQuickSuiteAtEveryWidth(string width)
    {
        var results = Quick(OptimizedAt(width));
        Assert.All(results, r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));
    }

    [Fact]
    public void TheBoundsAreTightOnOrdinaryData()
    {
        // A bound 100x looser than what kernels really do catches nothing: on ordinary random data
        // the worst error must reach at least 1% of its bound.
        foreach (var result in Quick(OptimizedAt("optimized")).Where(r => r.Case.Name.StartsWith("normal/", StringComparison.Ordinal)))
            Assert.True(result.WorstRatio >= 0.01, $"{result.Case.Name}: worst ratio {result.WorstRatio}");
    }

    [Fact]
    public void TheResidualBoundIsTightOnOrdinaryData()
    {
        // The structured model's residual bound, checked separately: on ordinary random data the
        // optimized kernel's worst residual in y and dx reaches at least 1% of it in every case.
        string[] ordinary = ["normal/", "uniform/", "dense/", "mixed-scales/"];
        var results = Quick(OptimizedAt("optimized")).Where(r => ordinary.Any(o => r.Case.Name.StartsWith(o, StringComparison.Ordinal))).ToArray();
        Assert.True(results.Length >= 12, "the ordinary cases are in the quick suite");
        foreach (var output in results.SelectMany(r => r.Outputs.Where(o => o.Output.IsElementwise()).Select(o => (r.Case.Name, o))))
        {
            Assert.NotNull(output.o.ResidualRatio);
            Assert.True(output.o.ResidualRatio >= 0.01, $"{output.Name} {output.o.Output.Name()}: residual ratio {output.o.ResidualRatio}");
            Assert.Equal(0, output.o.ElementwiseChannels);
        }
    }

    public static TheoryData<string> Faulty() => new(FaultyKernels.Names);

    [Theory]
    [MemberData(nameof(Faulty))]
    public void EveryFaultyKernelIsRejectedByTheQuickSuite(string name)
    {
        var results = Quick(KernelCatalog.Create(FaultyKernels.Prefix + name));
        Assert.Contains(results, r => r.Verdict == Verdict.Failed);
    }

    [Fact]
    public void ASingleElementOff64UlpFailsExactlyThatElement()
    {
        var result = CaseRunner.Run(KernelCatalog.Create("faulty:one-element-64-ulp"), Verifier.Select(Suite.Quick, "normal/nchw/train").Single(), Battery.DefaultSeed);
        var y = result.Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.Equal(1, y.OverBound);
        var failure = y.FirstFailures.Single();
        Assert.Equal(LargestExpected(result, y), failure.Index);
        Assert.Equal(["element-wise: 1 isolated element, channel " + failure.Location.Split("c=")[1].Split(',')[0]], y.Findings);
        // 64 ULPs from the kernel's own value, which was itself within one ULP of the rounded reference.
        Assert.InRange(failure.Ulps, 63, 65);
        Assert.All(result.Outputs.Where(o => o.Output != BatchNormOutput.Y), o => Assert.True(o.Passed));
    }

    private static long LargestExpected(CaseResult result, OutputComparison output)
    {
        var expected = ExpectedOutputs.Compute(result.Case, CaseInputs.Draw(result.Case, result.SuiteSeed), result.Contract).Single(o => o.Name == output.Output);
        return Array.IndexOf(expected.Values, expected.Values.Where(double.IsFinite).MaxBy(Math.Abs));
    }

    [Fact]
    public void AnUnwrittenTailElementFails()
    {
        var result = CaseRunner.Run(KernelCatalog.Create("faulty:tail-skipped"), Verifier.Select(Suite.Quick, "m-tail-33/nchw/train").Single(), Battery.DefaultSeed);
        var y = result.Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Equal(5, y.NonFiniteMismatches);   // 33 % 16 = 1 tail element in each of 5 channels, left NaN
    }

    [Fact]
    public void TheFloatOnePassVarianceFailsOnTheLargeMeanCase()
    {
        var result = CaseRunner.Run(KernelCatalog.Create("faulty:one-pass-variance"), Verifier.Select(Suite.Quick, "large-mean-1e4/nchw/train").Single(), Battery.DefaultSeed);
        Assert.False(result.Outputs.Single(o => o.Output == BatchNormOutput.BatchVariance).Passed);
        Assert.False(result.Outputs.Single(o => o.Output == BatchNormOutput.Y).Passed);
        // On ordinary data the formula's error in y stays within y's bounds: the large-mean case is what shows it in y.
        var normal = CaseRunner.Run(KernelCatalog.Create("faulty:one-pass-variance"), Verifier.Select(Suite.Quick, "normal/nchw/train").Single(), Battery.DefaultSeed);
        Assert.True(normal.Outputs.Single(o => o.Output == BatchNormOutput.Y).Passed);
    }

    [Fact]
    public void ExactStatisticsAreHeldToExactness()
    {
        // A mean one ULP off passes where the bound allows rounding, and fails where exactness is provable.
        var kernel = new MeanNudged();
        Assert.Equal(Verdict.Passed, CaseRunner.Run(kernel, Verifier.Select(Suite.Quick, "normal/nchw/train").Single(), Battery.DefaultSeed).Verdict);
        var exact = CaseRunner.Run(kernel, Verifier.Select(Suite.Quick, "exact-pairs/nchw/train").Single(), Battery.DefaultSeed);
        Assert.False(exact.Outputs.Single(o => o.Output == BatchNormOutput.BatchMean).Passed);
    }

    [Fact]
    public void MostlyZeroOutputsAreMistrustedUnlessTheCaseIsAboutZeros()
    {
        var @case = Verifier.Select(Suite.Quick, "gamma-zero/nchw/backward-train").Single();
        Assert.Equal(Verdict.Passed, CaseRunner.Run(OptimizedAt("optimized"), @case, Battery.DefaultSeed).Verdict);
        var result = CaseRunner.Run(OptimizedAt("optimized"), @case with { AboutZeros = false }, Battery.DefaultSeed);
        Assert.Equal(Verdict.Mistrusted, result.Verdict);
        Assert.Contains("exactly 0", result.MistrustReason);
    }

    [Fact]
    public void NondeterminismWritesOutsideTheOutputAndChangedInputsAreViolations()
    {
        var normal = Verifier.Select(Suite.Quick, "normal/nhwc/train").Single();
        Assert.Contains(CaseRunner.Run(KernelCatalog.Create("faulty:schedule-dependent-reduction"), normal, Battery.DefaultSeed).Violations, v => v.Contains("nondeterministic"));
        Assert.Contains(CaseRunner.Run(KernelCatalog.Create("faulty:write-past-end"), normal, Battery.DefaultSeed).Violations, v => v.Contains("y: wrote at element"));
        Assert.Contains(CaseRunner.Run(new InputScribbler(), normal, Battery.DefaultSeed).Violations, v => v.Contains("x: the kernel changed an input"));
    }

    /// <summary>The optimized kernel's run of a case under the name "k", and a baseline that records it (which it then holds).</summary>
    private static (CaseResult Run, AccuracyBaseline Baseline) RecordedAsK(VerificationCase @case)
    {
        var run = CaseRunner.Run(OptimizedAt("optimized"), @case, Battery.DefaultSeed) with { Kernel = "k" };
        var baseline = AccuracyBaseline.Empty();
        baseline.Record(Suite.Quick, "k", Battery.DefaultSeed, run.Contract, [run]);
        Assert.Empty(baseline.Regressions(Suite.Quick, run));
        return (run, baseline);
    }

    [Fact]
    public void TheRatchetFlagsAnErrorThatGrewPastTheBaselineAndNothingElse()
    {
        var @case = Verifier.Select(Suite.Quick, "large-mean-1e4/nchw/train").Single();
        var (optimized, baseline) = RecordedAsK(@case);

        // The textbook float kernel is within the sound bound here, but its y error is far larger.
        var scalar = CaseRunner.Run(new ScalarFloatKernel(), @case, Battery.DefaultSeed) with { Kernel = "k" };
        Assert.Equal(Verdict.Passed, scalar.Verdict);
        var regressions = baseline.Regressions(Suite.Quick, scalar);
        Assert.Contains(regressions, r => r.StartsWith("y: max abs error", StringComparison.Ordinal) && r.Contains("--update-baseline"));

        // Another seed is not what the baseline recorded: no verdict from the ratchet.
        Assert.Empty(baseline.Regressions(Suite.Quick, scalar with { SuiteSeed = 1 }));
    }

    /// <summary>
    /// A kernel judged by a looser contract than the one recorded with its baseline (its sums declared float where they
    /// were double) fails the ratchet by name, even where every error stays within 4x its baseline.
    /// </summary>
    [Fact]
    public void TheRatchetFailsARunJudgedByAnotherContractThanTheRecordedOne()
    {
        var @case = Verifier.Select(Suite.Quick, "normal/nchw/train").Single();
        var (recorded, baseline) = RecordedAsK(@case);
        var loosened = CaseRunner.Run(OptimizedAt("optimized"), @case, Battery.DefaultSeed, NumericalContract.Parse("float-pairwise/two-pass/centred")) with { Kernel = "k" };
        Assert.Equal(Verdict.Passed, loosened.Verdict);
        string regression = Assert.Single(baseline.Regressions(Suite.Quick, loosened));
        Assert.StartsWith("contract: judged by float-pairwise/two-pass/centred, but the baseline recorded double/two-pass/centred", regression);
    }

    [Fact]
    public void RecordingOneActivationKeepsTheOthersAndTheReluRatchetNamesItsFlag()
    {
        var plain = CaseRunner.Run(OptimizedAt("optimized"), Verifier.Select(Suite.Quick, "large-mean-1e4/nchw/train").Single(), Battery.DefaultSeed) with { Kernel = "k" };
        var reluCase = Verifier.Select(Suite.Quick, "relu/large-mean-1e4/nchw/train", Activation.Relu).Single();
        var relu = CaseRunner.Run(OptimizedAt("optimized"), reluCase, Battery.DefaultSeed) with { Kernel = "k" };
        var baseline = AccuracyBaseline.Empty();
        baseline.Record(Suite.Quick, "k", Battery.DefaultSeed, plain.Contract, [plain]);
        baseline.Record(Suite.Quick, "k", Battery.DefaultSeed, relu.Contract, [relu]);
        baseline.Record(Suite.Quick, "k", Battery.DefaultSeed, plain.Contract, [plain]);

        // Both are still recorded: the textbook kernel, far less accurate on this case, regresses on each.
        var scalarPlain = CaseRunner.Run(new ScalarFloatKernel(), plain.Case, Battery.DefaultSeed) with { Kernel = "k" };
        var scalarRelu = CaseRunner.Run(new ScalarFloatKernel(), reluCase, Battery.DefaultSeed) with { Kernel = "k" };
        Assert.NotEmpty(baseline.Regressions(Suite.Quick, scalarPlain));
        Assert.Contains(baseline.Regressions(Suite.Quick, scalarRelu), r => r.Contains("verify --kernel k --activation relu --suite quick --update-baseline"));
    }

    [Fact]
    public void TheCommittedBaselineHoldsEveryOptimizedWidthOnBothSuites()
    {
        string? path = AccuracyBaseline.Locate();
        Assert.NotNull(path);
        var baseline = AccuracyBaseline.Load(path);
        foreach (string width in KernelCatalog.OptimizedWidths.Append("optimized"))
        {
            var results = Quick(OptimizedAt(width));
            foreach (var result in results)
                Assert.Empty(baseline.Regressions(Suite.Quick, result));
        }
    }

    /// <summary>The optimized kernel with every batch mean one ULP high.</summary>
    private sealed class MeanNudged : IBatchNormKernel
    {
        private readonly BatchNorm.Optimized.OptimizedBatchNorm correct = new();

        public string Name => "mean-nudged";

        public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            correct.ForwardTraining(shape, options, t);
            for (int c = 0; c < t.BatchMean.Length; c++)
                t.BatchMean[c] = MathF.BitIncrement(t.BatchMean[c]);
        }

        public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => correct.ForwardInference(shape, options, t);

        public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) => correct.BackwardTraining(shape, t);

        public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => correct.BackwardInference(shape, options, t);
    }

    /// <summary>The optimized kernel that also overwrites x[0] (its input) through the read-only span.</summary>
    private sealed class InputScribbler : IBatchNormKernel
    {
        private readonly BatchNorm.Optimized.OptimizedBatchNorm correct = new();

        public string Name => "input-scribbler";

        public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            correct.ForwardTraining(shape, options, t);
            MemoryMarshal.GetReference(t.X) = 42f;
        }

        public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => correct.ForwardInference(shape, options, t);

        public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) => correct.BackwardTraining(shape, t);

        public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => correct.BackwardInference(shape, options, t);
    }
}
