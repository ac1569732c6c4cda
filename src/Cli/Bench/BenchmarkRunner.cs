using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Optimized;
using BatchNorm.Optimized.Passes;

namespace BatchNorm.Cli.Bench;

/// <summary>Times kernels on the benchmark shapes: fwd_train, fwd_infer and (training) backward.</summary>
internal sealed class BenchmarkRunner(int threads, int runs, IReadOnlyList<IBenchAnchor> anchors, Activation activation = Activation.None)
{
    private readonly Dictionary<(int Length, int Inputs), double> probes = [];

    public static readonly string[] Passes = ["fwd_train", "fwd_infer", "backward"];

    /// <summary>Times one cell. Effective bytes are the minimal traffic: x read and y written (forward), x and dy read and dx written (backward).</summary>
    public BenchRow Measure(IBatchNormKernel kernel, BenchShape benchShape, Layout layout, string pass)
    {
        var shape = benchShape.In(layout);
        int n = shape.ElementCount;
        var workload = new PassWorkload(kernel, shape, activation: activation);
        var batchNormPass = pass switch
        {
            "fwd_train" => BatchNormPass.ForwardTraining,
            "fwd_infer" => BatchNormPass.ForwardInference,
            "backward" => BatchNormPass.BackwardTraining,
            _ => throw new ArgumentException($"no bench pass '{pass}'", nameof(pass)),
        };
        // Round by round (ours, then each anchor): each round's ratio cancels the machine's drift.
        var ours = Timing.Timer(() => workload.Run(batchNormPass));
        Timing.WarmUp(ours);
        var others = anchors.Where(a => a.Name != kernel.Name).ToArray();
        var timers = new List<Func<double>> { ours };
        timers.AddRange(others.Select(a => a.Cell(workload, benchShape, layout, pass, batchNormPass, activation)));
        // Each timed computation is verified once in the sitting: ours, and every anchor on what it times.
        AnchorCheck[] checks = [AnchorCheck.Of(kernel, shape, batchNormPass, activation), .. others.Select(a => a.Check(shape, batchNormPass, activation))];
        double[][] rounds = Timing.Rounds(timers, runs);
        double seconds = Timing.Median(rounds[0]);
        var versus = others.Select((a, i) =>
        {
            double[] ratios = rounds[0].Zip(rounds[i + 1], (mine, theirs) => mine / theirs).ToArray();
            return new AnchorRatio(a.Name, Timing.Median(rounds[i + 1]) * 1e3, Timing.Median(ratios), Timing.Quantile(ratios, 0.25), Timing.Quantile(ratios, 0.75), RoundDrift.Of(rounds[i + 1]))
            {
                AnchorSpread = Spread(rounds[i + 1]),
            };
        }).ToArray();

        int inputs = pass == "backward" ? 2 : 1;
        double bytes = (inputs + 1) * 4.0 * n;
        if (!probes.TryGetValue((n, inputs), out double probe))
            probes[(n, inputs)] = probe = StreamingProbe.BytesPerSecond(n, inputs, threads, runs);
        double bytesPerSecond = bytes / seconds;
        return new BenchRow(kernel.Name, layout.Short(), benchShape.Name, pass, activation.Short(), seconds * 1e3, bytesPerSecond / 1e9, bytesPerSecond / probe, versus)
        {
            Checks = checks,
            Drift = RoundDrift.Of(rounds[0]),
            Spread = Spread(rounds[0]),
            Policies = PolicyTunings.ChosenFor(PassType(batchNormPass), shape).Select(p => p.ToString()).ToArray(),
            Tuning = PolicyTunings.FiguresFor(PassType(batchNormPass), shape),
        };
    }

    /// <summary>The optimized kernel's pass type of a bench pass, whose tuned policy the row reports.</summary>
    private static Type PassType(BatchNormPass pass) => pass switch
    {
        BatchNormPass.ForwardTraining => typeof(ForwardTrainingPass),
        BatchNormPass.ForwardInference => typeof(ForwardInferencePass),
        BatchNormPass.BackwardTraining => typeof(BackwardTrainingPass<>),
        BatchNormPass.BackwardInference => typeof(BackwardInferencePass<>),
        _ => throw new ArgumentOutOfRangeException(nameof(pass), pass, "no such pass"),
    };

    /// <summary>The 25th and 75th percentiles of one participant's round times, in ms.</summary>
    private static (double Low, double High) Spread(double[] seconds) => (Timing.Quantile(seconds, 0.25) * 1e3, Timing.Quantile(seconds, 0.75) * 1e3);
}
