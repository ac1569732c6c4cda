using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Optimized;
using BenchmarkDotNet.Attributes;

namespace BatchNorm.Bench;

/// <summary>One pass of the optimized kernel on one shape, at each width the machine runs.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private PassWorkload workload = null!;

    /// <summary>The optimized kernel's width by its bnverify name (optimized-512, -256, -128, -scalar).</summary>
    [Params("optimized-512", "optimized-256", "optimized-128", "optimized-scalar")]
    public string Kernel { get; set; } = "optimized-512";

    [Params(Layout.ChannelsFirst, Layout.ChannelsLast)]
    public Layout Layout { get; set; }

    /// <summary>N x C x S, e.g. "64x256x196".</summary>
    [Params("64x256x196", "256x1024x1")]
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
}
