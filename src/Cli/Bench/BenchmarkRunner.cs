using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Cli.Bench;

/// <summary>Times kernels on the benchmark shapes: fwd_train, fwd_infer and (training) backward.</summary>
internal sealed class BenchmarkRunner(int threads, int runs, IBatchNormKernel? anchor = null)
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
            "backward" => BatchNormPass.BackwardTraining,
            _ => throw new ArgumentException($"no bench pass '{pass}'", nameof(pass)),
        };
        double seconds;
        AnchorRatio? versus = null;
        if (anchor is null || anchor.Name == kernel.Name)
        {
            seconds = Timing.MedianSeconds(() => workload.Run(batchNormPass), runs);
        }
        else
        {
            // Round by round on the same buffers: the ratio of each round cancels the machine's drift.
            var (ours, theirs) = Timing.Interleaved(() => workload.Run(batchNormPass), () => workload.RunWith(anchor, batchNormPass), runs);
            double[] ratios = ours.Zip(theirs, (a, b) => a / b).ToArray();
            seconds = Timing.Median(ours);
            versus = new AnchorRatio(anchor.Name, Timing.Median(theirs) * 1e3, Timing.Median(ratios), Timing.Quantile(ratios, 0.25), Timing.Quantile(ratios, 0.75));
        }

        int inputs = pass == "backward" ? 2 : 1;
        double bytes = (inputs + 1) * 4.0 * n;
        if (!probes.TryGetValue((n, inputs), out double probe))
            probes[(n, inputs)] = probe = StreamingProbe.BytesPerSecond(n, inputs, threads, runs);
        double bytesPerSecond = bytes / seconds;
        return new BenchRow(kernel.Name, layout == Layout.ChannelsFirst ? "nchw" : "nhwc", benchShape.Name, pass, seconds * 1e3, bytesPerSecond / 1e9, bytesPerSecond / probe, versus);
    }
}
