using BatchNorm.Optimized;
using BenchmarkDotNet.Attributes;

namespace BatchNorm.Bench;

/// <summary>One pass of the optimized kernel on one shape, at each width the machine runs.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private float[] x = [], y = [], dy = [], mean = [], variance = [], invStd = [], gamma = [], beta = [], runMean = [], runVar = [];
    private OptimizedBatchNorm kernel = new();
    private TensorShape shape;

    [Params(VectorWidth.Bits512, VectorWidth.Bits256, VectorWidth.Bits128, VectorWidth.Scalar)]
    public VectorWidth Width { get; set; }

    [Params(Layout.ChannelsFirst, Layout.ChannelsLast)]
    public Layout Layout { get; set; }

    /// <summary>N x C x S, e.g. "64x256x196".</summary>
    [Params("64x256x196", "256x1024x1")]
    public string Shape { get; set; } = "64x256x196";

    [GlobalSetup]
    public void Setup()
    {
        int[] d = Shape.Split('x').Select(int.Parse).ToArray();
        shape = new TensorShape(d[0], d[1], d[2], Layout);
        kernel = VectorWidths.IsSupported(Width) ? new OptimizedBatchNorm(Width) : new OptimizedBatchNorm(VectorWidth.Scalar);
        var random = new Random(1);
        x = Fill(shape.ElementCount, random);
        dy = Fill(shape.ElementCount, random);
        y = new float[shape.ElementCount];
        gamma = Fill(shape.C, random);
        beta = Fill(shape.C, random);
        (mean, variance, invStd, runMean) = (new float[shape.C], new float[shape.C], new float[shape.C], new float[shape.C]);
        runVar = Enumerable.Repeat(1f, shape.C).ToArray();
        ForwardTraining();
    }

    [Benchmark]
    public void ForwardTraining() => kernel.ForwardTraining(shape, BatchNormOptions.PyTorch, new ForwardTrainingTensors<float>
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
    });

    [Benchmark]
    public void ForwardInference() => kernel.ForwardInference(shape, BatchNormOptions.PyTorch, new ForwardInferenceTensors<float>
    {
        X = x,
        Gamma = gamma,
        Beta = beta,
        RunningMean = mean,
        RunningVariance = variance,
        Y = y,
    });

    [Benchmark]
    public void BackwardTraining() => kernel.BackwardTraining(shape, new BackwardTrainingTensors<float>
    {
        X = x,
        Dy = dy,
        Gamma = gamma,
        SavedMean = mean,
        SavedInvStd = invStd,
        Dx = y,
        DGamma = runMean,
        DBeta = runVar,
    });

    private static float[] Fill(int length, Random random) => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
