using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Ratchet;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The accuracy ratchet covers every variant the CI gate runs: the fused ReLU and the bfloat16 and float16
/// kernels have committed baseline entries, and a regression that stays inside the sound bound fails those
/// gates through the ratchet, with the command that reruns the case.
/// </summary>
public class RatchetVariantTests
{
    private static readonly AccuracyBaseline Committed = AccuracyBaseline.Load(AccuracyBaseline.Locate()!);

    public static TheoryData<string, Activation> Variants => new()
    {
        { "optimized", Activation.Relu },
        { "optimized-scalar", Activation.Relu },
        { "optimized-bf16", Activation.None },
        { "optimized-fp16", Activation.Relu },
    };

    /// <summary>
    /// dgamma summed in float where the kernel sums in double: within the double contract's dgamma bound
    /// ((F + 3u) Σ|dy xhat|, the terms' own roundings dominating), tens of times the recorded error.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void ARegressionInsideTheSoundBoundFailsTheGateThroughTheRatchet(string name, Activation activation)
    {
        var kernel = new DGammaSummedInFloat(KernelCatalog.Create(name));
        var cases = Verifier.Select(Suite.Quick, null, activation, kernel.Precision).Where(c => c.Pass == BatchNormPass.BackwardTraining).ToList();
        var results = Verifier.Run(kernel, cases, Battery.DefaultSeed);
        Assert.All(results, r => Assert.True(r.Verdict == Verdict.Passed, TextReport.Failure(r)));

        var judged = results.Select(r => r with { Regressions = Committed.Regressions(Suite.Quick, r) }).ToList();
        var failing = judged.Where(r => r.Verdict == Verdict.Failed).ToList();
        Assert.NotEmpty(failing);
        string report = TextReport.Failure(failing[0]);
        Assert.Contains($"ratchet: dgamma: max abs error", report);
        Assert.Contains($"--kernel {name}{activation.Flag()} --suite quick --update-baseline", report);
        Assert.Contains($"verify --kernel {name}{activation.Flag()} --case {failing[0].Case.Name} --seed {Battery.DefaultSeed}", report);
    }

    /// <summary>The correct kernel's own runs of every gated variant are within their recorded errors: the committed entries are fresh.</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void TheCommittedBaselineHoldsEveryGatedVariant(string name, Activation activation)
    {
        var kernel = KernelCatalog.Create(name);
        var results = Verifier.Run(kernel, Battery.For(Suite.Quick, activation, kernel.Precision), Battery.DefaultSeed);
        Assert.NotNull(Committed.Held(Suite.Quick, name, Battery.DefaultSeed, results));
        Assert.All(results, r => Assert.Empty(Committed.Regressions(Suite.Quick, r)));
        Assert.All(results, r => Assert.True(Committed.Held(Suite.Quick, name, Battery.DefaultSeed, [r]) is not null, $"{r.Case.Name} has no recorded errors"));
    }

    /// <summary>The kernel it wraps, but dgamma recomputed as a float sum, one term after another (dy gated by a fused ReLU's y).</summary>
    private sealed class DGammaSummedInFloat(IBatchNormKernel correct) : IBatchNormKernel
    {
        public string Name => correct.Name;

        public DataPrecision Precision => correct.Precision;

        public NumericalContract? Contract => correct.Contract;

        public bool Supports(Activation activation) => correct.Supports(activation);

        public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) => correct.ForwardTraining(shape, options, t);

        public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => correct.ForwardInference(shape, options, t);

        public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => correct.BackwardInference(shape, options, t);

        public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            correct.BackwardTraining(shape, t);
            FaultyGuardKernels.SumDGammaInFloat(shape, t);
        }
    }
}
