using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Cli.Bench;

/// <summary>Times kernels on the benchmark shapes: fwd_train, fwd_infer and (training) backward.</summary>
internal sealed class BenchmarkRunner(int threads, int runs)
{
    private readonly Dictionary<(int Length, int Inputs), double> probes = [];

    public static readonly string[] Passes = ["fwd_train", "fwd_infer", "backward"];

    /// <summary>Times one cell. Effective bytes are the minimal traffic: x read and y written (forward), x and dy read and dx written (backward).</summary>
    public BenchRow Measure(IBatchNormKernel kernel, BenchShape benchShape, Layout layout, string pass)
    {
        var shape = benchShape.In(layout);
        int n = shape.ElementCount;
        var workload = new PassWorkload(kernel, shape);
        var batchNormPass = pass switch
        {
            "fwd_train" => BatchNormPass.ForwardTraining,
            "fwd_infer" => BatchNormPass.ForwardInference,
            _ => BatchNormPass.BackwardTraining,
        };
        Action call = () => workload.Run(batchNormPass);
        double seconds = Timing.MedianSeconds(call, runs);
        int inputs = pass == "backward" ? 2 : 1;
        double bytes = (inputs + 1) * 4.0 * n;
        if (!probes.TryGetValue((n, inputs), out double probe))
            probes[(n, inputs)] = probe = StreamingProbe.BytesPerSecond(n, inputs, threads, runs);
        double bytesPerSecond = bytes / seconds;
        return new BenchRow(kernel.Name, layout == Layout.ChannelsFirst ? "nchw" : "nhwc", benchShape.Name, pass, seconds * 1e3, bytesPerSecond / 1e9, bytesPerSecond / probe);
    }
}
