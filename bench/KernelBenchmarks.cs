using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Optimized;
using BenchmarkDotNet.Attributes;

namespace BatchNorm.Bench;

/// <summary>
/// Every pass of the optimized kernel on each of bnverify bench's shapes, both layouts, at each width
/// (a width the machine lacks runs scalar): the profiler-grade look behind bench's table.
/// </summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private PassWorkload workload = null!;

    /// <summary>The optimized kernel's width by its bnverify name (optimized-512, -256, -128, -scalar).</summary>
    [Params("optimized-512", "optimized-256", "optimized-128", "optimized-scalar")]
    public string Kernel { get; set; } = "optimized-512";

    [Params(Layout.ChannelsFirst, Layout.ChannelsLast)]
    public Layout Layout { get; set; }

    /// <summary>N x C x S: bnverify bench's shapes (32x64x56x56, 256x1024x1x1, 64x256x14x14, 8x32x112x112, dense 1024x512 and 64x50).</summary>
    [Params("32x64x3136", "256x1024x1", "64x256x196", "8x32x12544", "1024x512x1", "64x50x1")]
    public string Shape { get; set; } = "64x256x196";

    [GlobalSetup]
    public void Setup()
    {
        int[] d = Shape.Split('x').Select(int.Parse).ToArray();
        var requested = KernelCatalog.WidthOf(Kernel);
        var width = VectorWidths.IsSupported(requested) ? requested : VectorWidth.Scalar;
        workload = new PassWorkload(new OptimizedKernel("optimized", width), new TensorShape(d[0], d[1], d[2], Layout));
    }

    [Benchmark]
    public void ForwardTraining() => workload.Run(BatchNormPass.ForwardTraining);

    [Benchmark]
    public void ForwardInference() => workload.Run(BatchNormPass.ForwardInference);

    [Benchmark]
    public void BackwardTraining() => workload.Run(BatchNormPass.BackwardTraining);

    [Benchmark]
    public void BackwardInference() => workload.Run(BatchNormPass.BackwardInference);
}
