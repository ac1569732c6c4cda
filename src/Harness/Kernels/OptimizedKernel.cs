using BatchNorm.Optimized;

namespace BatchNorm.Harness.Kernels;

/// <summary>
/// <see cref="OptimizedBatchNorm"/> as a kernel under test. With a reduced <paramref name="precision"/>
/// it stores its data outputs (y, dx) in that format: its float32 loops, then each output value rounded
/// to the format (ties to even) in one more pass; the per-channel outputs stay float32.
/// </summary>
internal sealed class OptimizedKernel(string name, VectorWidth width, int maxDegreeOfParallelism = 0, DataPrecision precision = DataPrecision.Float32) : IBatchNormKernel
{
    private readonly OptimizedBatchNorm kernel = new(width, maxDegreeOfParallelism);

    public string Name { get; } = name;

    /// <summary>Every activation: the kernel fuses ReLU into its apply loop, and gates dy as its backward loops read it.</summary>
    public bool Supports(Activation activation) => Enum.IsDefined(activation);

    /// <summary>The width the kernel runs at, resolved when it was asked for Auto.</summary>
    public VectorWidth Width => kernel.Width;

    /// <summary>The most threads a call uses (the budget it was given; 0 became the core count).</summary>
    public int Threads => kernel.MaxDegreeOfParallelism;

    public DataPrecision Precision => precision;

    /// <summary>
    /// Sums in double (Reductions), the variance about the double mean, y centred on the mean as a float pair
    /// ((x - hi) - lo)·a + b with one multiply-add, dx = (dy - mean(dy))·k1 + (x - mean)·k2.
    /// </summary>
    public NumericalContract Contract => Declared;

    /// <summary>The contract the optimized kernel declares: double sums, two-pass statistics, centred apply.</summary>
    public static NumericalContract Declared { get; } = new(Accumulation.Double, StatisticsForm.TwoPass, ApplyForm.Centred);

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        kernel.ForwardTraining(shape, options, t);
        Store(t.Y);
    }

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
    {
        kernel.ForwardInference(shape, options, t);
        Store(t.Y);
    }

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        kernel.BackwardTraining(shape, t);
        Store(t.Dx);
    }

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        kernel.BackwardInference(shape, options, t);
        Store(t.Dx);
    }

    /// <summary>Rounds a data output to the kernel's format (nothing to do in float32).</summary>
    private void Store(Span<float> output) => DataPrecisions.RoundAll(output, precision);
}
