using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using BatchNorm.Reference;
using Xunit;
using static BatchNorm.Tests.Unit.KernelCases;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// Fused ReLU (options.Activation = Relu, forwardY on the backward): the reference against values
/// worked out by hand, the argument rules, the verifier's relu battery on the correct kernels and
/// on each planted ReLU bug, and the CLI's --activation.
/// </summary>
public class ReluTests
{
    private const double Sentinel = -12345.5;
    private static readonly TensorShape Dense = new(2, 3, 1, Layout.ChannelsFirst);
    private static readonly BatchNormOptions Relu = BatchNormOptions.PyTorch with { Activation = Activation.Relu };

    [Fact]
    public void TheReferenceClampsNegativeValuesAndKeepsNaN()
    {
        // Running mean 0 and variance 1 - eps make istd exactly 1: y = gamma * x + beta, then ReLU.
        double[] x = [1, -2, double.NaN, -1, 2, 0.5], y = new double[6];
        ReferenceBatchNorm.ForwardInference(Dense, Relu with { Epsilon = 0.25 }, new ForwardInferenceTensors<double>
        {
            X = x,
            Gamma = [2, 1, 1],
            Beta = [0.5, 1, 0],
            RunningMean = new double[3],
            RunningVariance = [0.75, 0.75, 0.75],
            Y = y,
        });
        Assert.Equal(2.5, y[0]);
        Assert.Equal(0.0, y[1]);      // -2 + 1 = -1, clamped
        Assert.True(double.IsNaN(y[2]));
        Assert.Equal(0.0, y[3]);      // 2 * -1 + 0.5 = -1.5, clamped
        Assert.Equal(3.0, y[4]);
        Assert.Equal(0.5, y[5]);
    }

    [Fact]
    public void TheReferenceBackwardZeroesDyWhereTheForwardWasClamped()
    {
        // Inference with istd exactly 1 and gamma 2: dx = 0 where forwardY <= 0 (0 and -0 included), else 2 * dy (a NaN passes, as in PyTorch and oneDNN).
        double[] dx = new double[6], dgamma = new double[3], dbeta = new double[3];
        ReferenceBatchNorm.BackwardInference(Dense, Relu with { Epsilon = 0.25 }, new BackwardInferenceTensors<double>
        {
            X = [1, 2, 3, 3, 2, 1],
            Dy = [1, 2, 3, 4, 5, 6],
            Gamma = [2, 2, 2],
            RunningMean = new double[3],
            RunningVariance = [0.75, 0.75, 0.75],
            ForwardY = [1, 0, -0.0, double.NaN, 1e-300, -1],
            Dx = dx,
            DGamma = dgamma,
            DBeta = dbeta,
        });
        Assert.Equal([2.0, 0, 0, 8, 10, 0], dx);
        Assert.Equal([5.0, 5, 0], dbeta);      // channel 0 holds elements 0 and 3, channel 1 holds 1 and 4, channel 2 holds 2 and 5
        Assert.Equal([13.0, 10, 0], dgamma);   // sum of passed dy * x: 1*1 + 4*3, 5*2, 0
    }

    public static TheoryData<string, string> BackwardRules => new()
    {
        { "training forwardY length", "forwardY" },
        { "inference forwardY missing", "forwardY" },
        { "inference forwardY without relu", "forwardY" },
        { "forwardY overlaps dx", "dx" },
        { "undefined activation", "options.Activation" },
    };

    [Theory]
    [MemberData(nameof(BackwardRules))]
    public void BackwardArgumentRulesRejectAndWriteNothing(string rule, string argument)
    {
        double[] x = Filled(6, 1), dy = Filled(6, 1), forwardY = Filled(7, 1), dx = Filled(6, Sentinel), dg = Filled(3, Sentinel), db = Filled(3, Sentinel);
        double[] shared = Filled(6, Sentinel);
        Action call = rule switch
        {
            "training forwardY length" => () => ReferenceBatchNorm.BackwardTraining(Dense, new BackwardTrainingTensors<double>
            { X = x, Dy = dy, SavedMean = new double[3], SavedInvStd = [1, 1, 1], ForwardY = forwardY.AsSpan(0, 5), Dx = dx, DGamma = dg, DBeta = db }),
            "inference forwardY missing" => () => Inference(Relu, []),
            "inference forwardY without relu" => () => Inference(BatchNormOptions.PyTorch, forwardY.AsSpan(0, 6)),
            "forwardY overlaps dx" => () => ReferenceBatchNorm.BackwardTraining(Dense, new BackwardTrainingTensors<double>
            { X = x, Dy = dy, SavedMean = new double[3], SavedInvStd = [1, 1, 1], ForwardY = shared, Dx = shared, DGamma = dg, DBeta = db }),
            "undefined activation" => () => Inference(Relu with { Activation = (Activation)7 }, forwardY.AsSpan(0, 6)),
            _ => throw new ArgumentOutOfRangeException(nameof(rule)),
        };

        var error = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(argument, error.ParamName);
        Assert.All(dx.Concat(dg).Concat(db).Concat(shared), v => Assert.Equal(Sentinel, v));

        void Inference(BatchNormOptions options, ReadOnlySpan<double> gate) => ReferenceBatchNorm.BackwardInference(Dense, options, new BackwardInferenceTensors<double>
        { X = x, Dy = dy, RunningMean = new double[3], RunningVariance = [1, 1, 1], ForwardY = gate, Dx = dx, DGamma = dg, DBeta = db });
    }

    [Theory]
    [MemberData(nameof(OptimizedWidths), MemberType = typeof(KernelCases))]
    public void TheCorrectKernelPassesTheReluSuiteAtEveryWidth(string width) => AssertPasses(OptimizedAt(width));

    [Fact]
    public void TheScalarFloatKernelPassesTheReluSuite() => AssertPasses(KernelCatalog.Create("scalar-float"));

    public static TheoryData<string> FaultyRelu() => new(FaultyReluKernels.Names);

    [Theory]
    [MemberData(nameof(FaultyRelu))]
    public void EveryFaultyReluKernelIsRejectedByTheReluSuiteAndPassesThePlainOne(string name)
    {
        var kernel = KernelCatalog.Create(FaultyKernels.Prefix + name);
        Assert.Contains(Verifier.Run(kernel, Battery.For(Suite.Quick, Activation.Relu), Battery.DefaultSeed), r => r.Verdict == Verdict.Failed);
        // The bug is in how the ReLU is fused: without one the kernel is the correct one.
        Assert.All(Verifier.Run(kernel, Verifier.Select(Suite.Quick, "normal"), Battery.DefaultSeed), r => Assert.Equal(Verdict.Passed, r.Verdict));
    }

    [Fact]
    public void ALeakyReluFailsOnlyTheValuesItShouldHaveClamped()
    {
        // The leaky values sit where the reference is 0: outside the fit, held to their combined bound.
        var @case = Verifier.Select(Suite.Quick, "relu/normal/nchw/infer", Activation.Relu).Single();
        var result = CaseRunner.Run(KernelCatalog.Create("faulty:relu-leaky"), @case, Battery.DefaultSeed);
        var y = result.Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Empty(y.SystematicFailures);
        Assert.All(y.FirstFailures, f => Assert.Equal(0.0, f.Expected));
        Assert.Equal(y.ExpectedZeros, y.OverBound);
    }

    [Fact]
    public void ASystematicErrorWithinItsBoundPassesUnderRelu()
    {
        // A kernel whose istd is 2^-21 relative high (half the training bound rho on this case) has
        // the systematic error c_xhat * xhat on every value it does not clamp and none on those it
        // clamps; the clamped ones stay out of the fit (held to their combined bound), and it passes.
        var @case = Verifier.Select(Suite.Quick, "relu/normal/nchw/train", Activation.Relu).Single();
        var run = CaseRunner.Run(new IstdHigh(), @case, Battery.DefaultSeed);
        Assert.True(run.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(run));
        var y = run.Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.InRange(y.SystematicRatio!.Value, 0.3, 1);
    }

    [Fact]
    public void TheCliRefusesAnActivationTheKernelDoesNotFuse()
    {
        var run = Bnverify.Run("verify", "--kernel", "faulty:tail-skipped", "--activation", "relu");
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Output}{run.Error}");
        Assert.Contains("--activation relu: kernel faulty:tail-skipped does not fuse it", run.Error);

        var unknown = Bnverify.Run("verify", "--activation", "gelu");
        Assert.Equal(2, unknown.ExitCode);
    }

    [Fact]
    public void TheCliRunsTheReluSuiteAndItsReproducerNamesTheActivation()
    {
        var run = Bnverify.Run("verify", "--kernel", "faulty:relu-gate-ignored", "--activation", "relu", "--case", "relu/normal/nchw/backward-train");
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}: {run.Output}{run.Error}");
        Assert.Contains("verify --kernel faulty:relu-gate-ignored --activation relu --case relu/normal/nchw/backward-train --seed", run.Output);
    }

    private static void AssertPasses(IBatchNormKernel kernel)
    {
        var results = Verifier.Run(kernel, Battery.For(Suite.Quick, Activation.Relu), Battery.DefaultSeed);
        Assert.Equal(Battery.For(Suite.Quick).Count, results.Count);
        Assert.All(results, r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));
    }

    private static double[] Filled(int length, double value) => Enumerable.Repeat(value, length).ToArray();

    /// <summary>The optimized kernel with its training istd 2^-21 relative high (gamma scaled instead, the same to y), then ReLU.</summary>
    private sealed class IstdHigh : IBatchNormKernel
    {
        private readonly BatchNorm.Optimized.OptimizedBatchNorm correct = new();

        public string Name => "istd-high";

        public bool Supports(Activation activation) => true;

        public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            float[] gamma = new float[shape.C];
            for (int c = 0; c < shape.C; c++)
                gamma[c] = ChannelParameter.ScaleAt(t.Gamma, c) * (1 + MathF.ScaleB(1, -21));
            correct.ForwardTraining(shape, options with { Activation = Activation.None }, t with { Gamma = gamma });
            foreach (ref float y in t.Y)
                y = MathF.Max(y, 0);
        }

        public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => correct.ForwardInference(shape, options, t);

        public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) => correct.BackwardTraining(shape, t);

        public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => correct.BackwardInference(shape, options, t);
    }
}
