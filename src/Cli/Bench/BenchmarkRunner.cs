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
        int n = shape.ElementCount, c = shape.C;
        var random = new Random(1);
        float[] x = Fill(n, random), dy = Fill(n, random), y = new float[n], gamma = Fill(c, random), beta = Fill(c, random);
        float[] mean = new float[c], variance = new float[c], invStd = new float[c], runMean = new float[c], runVar = Enumerable.Repeat(1f, c).ToArray();
        float[] dgamma = new float[c], dbeta = new float[c];
        var options = BatchNormOptions.PyTorch;
        kernel.ForwardTraining(shape, options, new ForwardTrainingTensors<float>
        {
            X = x,
            Gamma = gamma,
            Beta = beta,
            Y = y,
            BatchMean = mean,
            BatchVariance = variance,
            BatchInvStd = invStd,
        });
        Action call = pass switch
        {
            "fwd_train" => () => kernel.ForwardTraining(shape, options, new ForwardTrainingTensors<float>
            {
                X = x,
                Gamma = gamma,
                Beta = beta,
                Y = y,
                BatchMean = mean,
                BatchVariance = variance,
                BatchInvStd = invStd,
                RunningMean = runMean,
                RunningVariance = runVar,
            }),
            "fwd_infer" => () => kernel.ForwardInference(shape, options, new ForwardInferenceTensors<float>
            {
                X = x,
                Gamma = gamma,
                Beta = beta,
                RunningMean = mean,
                RunningVariance = variance,
                Y = y,
            }),
            _ => () => kernel.BackwardTraining(shape, new BackwardTrainingTensors<float>
            {
                X = x,
                Dy = dy,
                Gamma = gamma,
                SavedMean = mean,
                SavedInvStd = invStd,
                Dx = y,
                DGamma = dgamma,
                DBeta = dbeta,
            }),
        };
        double seconds = Timing.MedianSeconds(call, runs);
        int inputs = pass == "backward" ? 2 : 1;
        double bytes = (inputs + 1) * 4.0 * n;
        if (!probes.TryGetValue((n, inputs), out double probe))
            probes[(n, inputs)] = probe = StreamingProbe.BytesPerSecond(n, inputs, threads, runs);
        double bytesPerSecond = bytes / seconds;
        return new BenchRow(kernel.Name, layout == Layout.ChannelsFirst ? "nchw" : "nhwc", benchShape.Name, pass, seconds * 1e3, bytesPerSecond / 1e9, bytesPerSecond / probe);
    }

    private static float[] Fill(int length, Random random)
    {
        float[] values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)CaseInputs.Normal(random);
        return values;
    }
}
