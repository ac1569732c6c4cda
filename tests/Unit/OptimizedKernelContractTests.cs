using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Kernels;
using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The optimized kernel's public contract apart from its values: which width and thread budget a
/// constructor gives, what the width helpers report, that every pass refuses bad input before
/// writing, and that a call allocates nothing once the array pool is warm.
/// </summary>
public class OptimizedKernelContractTests
{
    [Fact]
    public void AForcedWidthIsTheWidthUsedAndAutoIsTheWidest()
    {
        foreach (var width in VectorWidths.Supported)
            Assert.Equal(width, new OptimizedBatchNorm(width).Width);
        Assert.Equal(VectorWidths.Widest, new OptimizedBatchNorm(VectorWidth.Auto).Width);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void ANonPositiveThreadBudgetMeansEveryCore(int budget) =>
        Assert.Equal(Environment.ProcessorCount, new OptimizedBatchNorm(maxDegreeOfParallelism: budget).MaxDegreeOfParallelism);

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void APositiveThreadBudgetIsKept(int budget) =>
        Assert.Equal(budget, new OptimizedBatchNorm(maxDegreeOfParallelism: budget).MaxDegreeOfParallelism);

    [Fact]
    public void AnUnknownWidthIsRefusedWithTheRule()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new OptimizedBatchNorm((VectorWidth)7));
        Assert.Equal("width", error.ParamName);
        Assert.Contains("Auto, Scalar, Bits128, Bits256 or Bits512", error.Message, StringComparison.Ordinal);
        Assert.False(VectorWidths.IsSupported((VectorWidth)7));
    }

    [Fact]
    public void TheWidestWidthIsSupportedAndNothingWiderIs()
    {
        Assert.True(VectorWidths.IsSupported(VectorWidths.Widest));
        Assert.Contains(VectorWidths.Widest, VectorWidths.Supported);
        Assert.All(VectorWidths.Supported, w => Assert.True(FloatLanes(w) <= FloatLanes(VectorWidths.Widest), $"{w} is supported and wider than {VectorWidths.Widest}"));
        Assert.Equal(VectorWidths.Supported.OrderBy(FloatLanes), VectorWidths.Supported);
    }

    [Fact]
    public void FloatLanesAreTheVectorTypesCounts()
    {
        Assert.Equal(1, VectorWidths.FloatLanes(VectorWidth.Scalar));
        Assert.Equal(System.Runtime.Intrinsics.Vector128<float>.Count, VectorWidths.FloatLanes(VectorWidth.Bits128));
        Assert.Equal(System.Runtime.Intrinsics.Vector256<float>.Count, VectorWidths.FloatLanes(VectorWidth.Bits256));
        Assert.Equal(System.Runtime.Intrinsics.Vector512<float>.Count, VectorWidths.FloatLanes(VectorWidth.Bits512));
        Assert.Equal(VectorWidths.FloatLanes(VectorWidths.Widest), VectorWidths.FloatLanes(VectorWidth.Auto));
    }

    /// <summary>x one element short: each pass must name it and leave every output as it was.</summary>
    [Theory]
    [InlineData("ForwardTraining")]
    [InlineData("ForwardInference")]
    [InlineData("BackwardTraining")]
    [InlineData("BackwardInference")]
    public void EveryPassRefusesAShortXBeforeWriting(string pass)
    {
        const float Sentinel = -7.25f;
        var shape = new TensorShape(2, 3, 4, Layout.ChannelsFirst);
        var kernel = new OptimizedBatchNorm();
        float[] x = new float[shape.ElementCount - 1], dy = new float[shape.ElementCount], ones = [1, 1, 1];
        float[][] outputs = [Filled(shape.ElementCount), Filled(3), Filled(3), Filled(3), Filled(3), Filled(3)];
        Action call = pass switch
        {
            "ForwardTraining" => () => kernel.ForwardTraining(shape, BatchNormOptions.PyTorch, new ForwardTrainingTensors<float>
            {
                X = x,
                Y = outputs[0],
                BatchMean = outputs[1],
                BatchVariance = outputs[2],
                BatchInvStd = outputs[3],
                RunningMean = outputs[4],
                RunningVariance = outputs[5],
            }),
            "ForwardInference" => () => kernel.ForwardInference(shape, BatchNormOptions.PyTorch, new ForwardInferenceTensors<float>
            {
                X = x,
                Y = outputs[0],
                RunningMean = ones,
                RunningVariance = ones,
            }),
            "BackwardTraining" => () => kernel.BackwardTraining(shape, new BackwardTrainingTensors<float>
            {
                X = x,
                Dy = dy,
                SavedMean = ones,
                SavedInvStd = ones,
                Dx = outputs[0],
                DGamma = outputs[1],
                DBeta = outputs[2],
            }),
            _ => () => kernel.BackwardInference(shape, BatchNormOptions.PyTorch, new BackwardInferenceTensors<float>
            {
                X = x,
                Dy = dy,
                RunningMean = ones,
                RunningVariance = ones,
                Dx = outputs[0],
                DGamma = outputs[1],
                DBeta = outputs[2],
            }),
        };

        var error = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal("x", error.ParamName);
        Assert.All(outputs, o => Assert.All(o, v => Assert.Equal(Sentinel, v)));

        static float[] Filled(int length) => Enumerable.Repeat(Sentinel, length).ToArray();
    }

    /// <summary>
    /// The brief allows O(C) scratch per call, and the kernel rents it from the shared array pool:
    /// once warm, a call that runs on one thread allocates nothing at all. That is every call with
    /// a budget of one thread, and every call on a tensor small enough to be one task whatever the
    /// budget (4x9x5 is 180 elements). Calls split across threads allocate one small job object
    /// per phase in the fork-join runner; the benchmark measures those.
    /// </summary>
    [Theory]
    [InlineData(Layout.ChannelsFirst, 3000, 1)]
    [InlineData(Layout.ChannelsFirst, 5, 1)]
    [InlineData(Layout.ChannelsLast, 5, 1)]
    [InlineData(Layout.ChannelsFirst, 5, 4)]
    [InlineData(Layout.ChannelsLast, 5, 4)]
    public void AWarmCallOnOneThreadAllocatesNothing(Layout layout, int s, int threads)
    {
        var workload = new PassWorkload(new OptimizedKernel("optimized", VectorWidth.Auto, threads), new TensorShape(4, 9, s, layout));
        void Step()
        {
            foreach (var pass in KernelCases.AllPasses)
                workload.Run(pass);
        }

        Step();
        // The shared array pool drops its cached arrays when a gen-2 collection (another test's,
        // in this process) falls between two calls, and the next rent then allocates once. A
        // per-call allocation shows in every window of calls, so one window of three warm steps
        // that allocates nothing is the claim; five windows make a pool trim in each of them
        // implausible. (CI once saw 248 bytes in a single window.)
        var windows = new List<long>();
        for (int window = 0; window < 5 && !windows.Contains(0); window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++)
                Step();
            windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(windows.Contains(0), $"every window of three warm steps allocated: {string.Join(", ", windows)} bytes");
        Assert.All(workload.Dx, v => Assert.True(float.IsFinite(v)));
    }

    private static int FloatLanes(VectorWidth width) => VectorWidths.FloatLanes(width);
}
