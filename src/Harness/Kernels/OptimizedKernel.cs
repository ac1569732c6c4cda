using BatchNorm.Optimized;

namespace BatchNorm.Harness.Kernels;

/// <summary><see cref="OptimizedBatchNorm"/> as a kernel under test.</summary>
internal sealed class OptimizedKernel(string name, VectorWidth width, int maxDegreeOfParallelism = 0) : IBatchNormKernel
{
    private readonly OptimizedBatchNorm kernel = new(width, maxDegreeOfParallelism);

    public string Name { get; } = name;

    /// <summary>Every activation: the kernel fuses ReLU into its apply loop, and masks dy before its backward.</summary>
    public bool Supports(Activation activation) => Enum.IsDefined(activation);

    /// <summary>The width the kernel runs at, resolved when it was asked for Auto.</summary>
    public VectorWidth Width => kernel.Width;

    /// <summary>The most threads a call uses (the budget it was given; 0 became the core count).</summary>
    public int Threads => kernel.MaxDegreeOfParallelism;

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) =>
        kernel.ForwardTraining(shape, options, t);

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) =>
        kernel.ForwardInference(shape, options, t);

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) =>
        kernel.BackwardTraining(shape, t);

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) =>
        kernel.BackwardInference(shape, options, t);
}
