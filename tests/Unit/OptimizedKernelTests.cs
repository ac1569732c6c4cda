using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;
using BatchNorm.Optimized;
using Xunit;
using static BatchNorm.Tests.Unit.KernelCases;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The optimized kernel at every width against the reference, within the verifier's tolerance
/// model, with canary-guarded buffers (every CaseRunner run checks nothing was written outside an
/// output and no input changed) and a second run for determinism.
/// </summary>
public class OptimizedKernelTests
{
    /// <summary>Reductions unroll by 2, so every M from 1 to 2*(16*2)+1 crosses each main-loop, remainder and tail path of the 512-bit width.</summary>
    private const int MaxSweptM = (2 * 16 * 2) + 1;

    [Theory]
    [MemberData(nameof(OptimizedWidths), MemberType = typeof(KernelCases))]
    public void EveryMFromOneTo65PassesEveryPassAtEveryWidth(string width)
    {
        var kernel = OptimizedAt(width);
        for (int m = 1; m <= MaxSweptM; m++)
        {
            foreach (var pass in AllPasses)
            {
                // M = 1 under PyTorch's unbiased running variance is refused by design: use Keras there.
                AssertPasses(kernel, Case($"m-sweep-{m}", 1, 3, m, Layout.ChannelsFirst, pass,
                    k => m == 1 ? k with { Options = BatchNormOptions.For(RunningStatsConvention.Keras), AboutZeros = true } : k));
            }
        }
    }

    [Theory]
    [MemberData(nameof(OptimizedWidths), MemberType = typeof(KernelCases))]
    public void EveryCFromOneTo70InChannelsLastPassesAtEveryWidth(string width)
    {
        var kernel = OptimizedAt(width);
        for (int c = 1; c <= 70; c++)
        {
            foreach (var pass in AllPasses)
                AssertPasses(kernel, Case($"c-sweep-{c}", 3, c, 13, Layout.ChannelsLast, pass));
        }
    }

    public static TheoryData<string, Layout, int, int, int> Shapes()
    {
        var data = new TheoryData<string, Layout, int, int, int>();
        foreach (string width in BatchNorm.Harness.Kernels.KernelCatalog.OptimizedWidths)
        {
            foreach (var layout in new[] { Layout.ChannelsFirst, Layout.ChannelsLast })
            {
                data.Add(width, layout, 4, 3, 1500);     // channels-first: long runs, one channel per task
                data.Add(width, layout, 6, 5, 37);       // channels-first: short runs in memory order
                data.Add(width, layout, 3, 1, 70_000);   // C = 1, large M: split within the channel
                data.Add(width, layout, 4, 3, 50_000);   // several channels, each split in 6 chunks, some crossing a sample boundary
                data.Add(width, layout, 200, 19, 1);     // S = 1: rows
                data.Add(width, layout, 300, 100, 1);    // S = 1, C not a multiple of any width: rows whose phase wraps mid-vector
                data.Add(width, layout, 8, 100, 37);     // the same in channels-last, short runs in channels-first
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RandomDataAgreesWithTheReferenceInBothLayouts(string width, Layout layout, int n, int c, int s)
    {
        var kernel = OptimizedAt(width);
        foreach (var pass in AllPasses)
            AssertPasses(kernel, Case("random", n, c, s, layout, pass));
    }

    public static TheoryData<string, string> EdgeCases()
    {
        var data = new TheoryData<string, string>();
        var names = new[] { "large-mean-1e4", "large-mean-1e6", "subnormal", "large-1e18", "constant-channel", "m1-keras", "m1", "nan-channel", "inf-channel", "gamma-zero", "gamma-negative", "exact-pairs", "dy-zero", "eps-1e-8" };
        foreach (string width in BatchNorm.Harness.Kernels.KernelCatalog.OptimizedWidths)
        {
            foreach (string name in names)
                data.Add(width, name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void EdgeCasesOfTheBatteryPassAtEveryWidth(string width, string family)
    {
        var kernel = OptimizedAt(width);
        var cases = Verifier.Select(Suite.Full, family);
        Assert.NotEmpty(cases);
        foreach (var @case in cases)
            AssertPasses(kernel, @case);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OutputsAreBitwiseIdenticalForAnyThreadCount(string width, Layout layout, int n, int c, int s)
    {
        foreach (var pass in AllPasses)
        {
            var @case = Case("determinism", n, c, s, layout, pass);
            var inputs = CaseInputs.Draw(@case, 7);
            var baseline = KernelRun.Execute(OptimizedAt(width, threads: 1), @case, inputs);
            foreach (int threads in new[] { 2, 3, 7 })
            {
                var run = KernelRun.Execute(OptimizedAt(width, threads), @case, inputs);
                Assert.Empty(run.Violations);
                foreach (var (output, values) in baseline.Outputs)
                {
                    Assert.True(values.AsSpan().SequenceEqual(run.Outputs[output]),
                        $"{pass} {output} differs in bits between 1 and {threads} threads at {width}, {@case.Shape}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(OptimizedWidths), MemberType = typeof(KernelCases))]
    public void OneValuePerChannelGivesBetaAndZeroGradientsExactly(string width)
    {
        var shape = new TensorShape(1, 40, 1, Layout.ChannelsLast);
        var kernel = new OptimizedBatchNorm(WidthOf(width));
        float[] x = Enumerable.Range(0, 40).Select(i => (float)(i * 1.37 - 20)).ToArray(), gamma = Enumerable.Range(0, 40).Select(i => 0.5f + i).ToArray();
        float[] beta = Enumerable.Range(0, 40).Select(i => (float)Math.Sin(i)).ToArray(), y = new float[40], mean = new float[40], variance = new float[40], invStd = new float[40];
        kernel.ForwardTraining(shape, BatchNormOptions.For(RunningStatsConvention.Onnx), new ForwardTrainingTensors<float>
        {
            X = x,
            Gamma = gamma,
            Beta = beta,
            Y = y,
            BatchMean = mean,
            BatchVariance = variance,
            BatchInvStd = invStd,
        });
        Assert.Equal(beta, y);   // exactness is the claim
        float[] dy = x.Select(v => v * 0.25f + 1).ToArray(), dx = new float[40], dgamma = new float[40], dbeta = new float[40];
        kernel.BackwardTraining(shape, new BackwardTrainingTensors<float>
        {
            X = x,
            Dy = dy,
            Gamma = gamma,
            SavedMean = mean,
            SavedInvStd = invStd,
            Dx = dx,
            DGamma = dgamma,
            DBeta = dbeta,
        });
        Assert.All(dx, v => Assert.Equal(0f, v));
        Assert.All(dgamma, v => Assert.Equal(0f, v));
        Assert.Equal(dy, dbeta);
    }

    [Fact]
    public void LargeMeanSmallSpreadStaysWithinAFewUlpsOfGammaXhat()
    {
        // 1e4 +- 1e-2: max|x|/std ~ 1e6. PyTorch 1.13's float kernel is off by ~13 million ULP here;
        // ours keeps the mean as a float pair and must stay within 4 ULP of |gamma * xhat|.
        foreach (string width in BatchNorm.Harness.Kernels.KernelCatalog.OptimizedWidths)
        {
            foreach (var layout in new[] { Layout.ChannelsFirst, Layout.ChannelsLast })
            {
                var @case = Case("large-mean", 16, 8, 64, layout, BatchNormPass.ForwardTraining, k => k with { Values = ValueFamily.Uniform, Offset = 1e4, Spread = 1e-2 });
                var inputs = CaseInputs.Draw(@case, 3);
                var run = KernelRun.Execute(OptimizedAt(width), @case, inputs);
                var expected = BatchNorm.Harness.Comparison.ExpectedOutputs.Compute(@case, inputs, BatchNorm.Harness.Kernels.Contracts.Of(OptimizedAt(width))).Single(o => o.Name == BatchNormOutput.Y);
                float[] y = run.Outputs[BatchNormOutput.Y];
                for (int i = 0; i < y.Length; i++)
                {
                    double beta = inputs.Beta[@case.Shape.CoordinatesOf(i).C];
                    double gammaXhat = Math.Abs(expected.Values[i] - beta);
                    Assert.True(Math.Abs(y[i] - expected.Values[i]) <= 4 * Math.ScaleB(gammaXhat + Math.Abs(beta), -23),
                        $"{width} {layout}: y[{i}] = {y[i]:R}, expected {expected.Values[i]:R}");
                }
            }
        }
    }

    [Fact]
    public void ForcingAWidthTheMachineLacksIsRefused()
    {
        foreach (var width in new[] { VectorWidth.Bits128, VectorWidth.Bits256, VectorWidth.Bits512 }.Where(w => !VectorWidths.IsSupported(w)))
            Assert.Throws<NotSupportedException>(() => new OptimizedBatchNorm(width));
    }

    [Fact]
    public void BadInputIsRefusedBeforeAnythingIsWritten()
    {
        var shape = new TensorShape(2, 3, 4, Layout.ChannelsFirst);
        float[] x = new float[24], y = Enumerable.Repeat(-7f, 24).ToArray(), stats = Enumerable.Repeat(-7f, 3).ToArray();
        float[] runVar = [1, -1, 1];
        var error = Assert.ThrowsAny<ArgumentException>(() => new OptimizedBatchNorm().ForwardTraining(shape, BatchNormOptions.PyTorch, new ForwardTrainingTensors<float>
        {
            X = x,
            Y = y,
            BatchMean = stats,
            BatchVariance = new float[3],
            BatchInvStd = new float[3],
            RunningMean = new float[3],
            RunningVariance = runVar,
        }));
        Assert.Equal("runningVariance", error.ParamName);
        Assert.All(y, v => Assert.Equal(-7f, v));
        Assert.All(stats, v => Assert.Equal(-7f, v));
    }
}

/// <summary>
/// Paths that only large or unusual inputs take, found untested by mutation testing: the
/// non-temporal stores of calls whose data outgrows the last-level cache, and an infinity as a channel's first value
/// (the value the statistics are shifted by).
/// </summary>
public class OptimizedKernelRarePathTests
{
    [Theory]
    [InlineData(Layout.ChannelsFirst)]
    [InlineData(Layout.ChannelsLast)]
    public void OutputsLargeEnoughToStreamAreStreamedAndStillAgree(Layout layout)
    {
        // 2 x 128 x S floats: the smallest tensor a forward pass (x in, y out) stores non-temporally on
        // this machine at any C; a backward reads more, so it streams too. 128 channels make
        // channels-last rows wide, so the reductions there take their uncached walks (prefetched
        // columns forward, rows backward).
        int c = RowsWalkPolicy.MinWideRow;
        int s = (int)(StreamingPolicy.MinDataBytes / sizeof(float) / 2 / (2 * c));
        Assert.True(StreamingPolicy.Streams(2L * c * s, inputTensors: 1, wideRows: false));
        var rows = Partition.For(new TensorShape(2, c, s, Layout.ChannelsLast));
        Assert.Equal(RowsWalk.PrefetchedColumns, RowsWalkPolicy.For(rows, inputTensors: 1));
        Assert.Equal(RowsWalk.Rows, RowsWalkPolicy.For(rows, inputTensors: 2));
        foreach (var pass in KernelCases.AllPasses)
            KernelCases.AssertPasses(KernelCases.OptimizedAt("optimized"), KernelCases.Case("streamed", 2, c, s, layout, pass));
    }

    [Theory]
    [MemberData(nameof(KernelCases.OptimizedWidths), MemberType = typeof(KernelCases))]
    public void AnInfinityAsAChannelsFirstValuePropagatesAsInTheReference(string width)
    {
        foreach (var layout in new[] { Layout.ChannelsFirst, Layout.ChannelsLast })
        {
            var @case = KernelCases.Case("infinity-first", 4, 3, 5, layout, BatchNorm.Harness.Cases.BatchNormPass.ForwardTraining);
            var inputs = BatchNorm.Harness.Cases.CaseInputs.Draw(@case, 11);
            inputs.X[@case.Shape.IndexOf(0, 1, 0)] = float.PositiveInfinity;
            inputs.X[@case.Shape.IndexOf(0, 2, 0)] = float.NegativeInfinity;
            var run = KernelRun.Execute(KernelCases.OptimizedAt(width), @case, inputs);
            var expected = BatchNorm.Harness.Comparison.ExpectedOutputs.Compute(@case, inputs, BatchNorm.Harness.Kernels.Contracts.Of(KernelCases.OptimizedAt(width)));
            foreach (var output in expected)
            {
                var comparison = BatchNorm.Harness.Comparison.OutputComparison.Compare(output, run.Outputs[output.Name], @case.Shape);
                Assert.True(comparison.Passed, $"{width} {layout} {output.Name}: {comparison.FirstFailures.FirstOrDefault()}");
            }

            Assert.Equal(float.PositiveInfinity, run.Outputs[BatchNormOutput.BatchMean][1]);
            Assert.Equal(float.NegativeInfinity, run.Outputs[BatchNormOutput.BatchMean][2]);
        }
    }
}
