using BatchNorm;
using BatchNorm.Harness.Kernels;

namespace UserKernels;

/// <summary>A kernel whose only constructor takes an argument: bnverify cannot create it.</summary>
public sealed class NeedsAnArgumentKernel(int threads) : IBatchNormKernel
{
    public string Name => $"needs-an-argument-{threads}";

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) => throw new NotSupportedException();

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => throw new NotSupportedException();

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) => throw new NotSupportedException();

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => throw new NotSupportedException();
}

/// <summary>A kernel whose constructor throws, as one whose native library is missing would.</summary>
public sealed class ThrowingConstructorKernel : IBatchNormKernel
{
    public ThrowingConstructorKernel() => throw new InvalidOperationException("libmykernel.so was not found");

    public string Name => "throwing-constructor";

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) => throw new NotSupportedException();

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => throw new NotSupportedException();

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) => throw new NotSupportedException();

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => throw new NotSupportedException();
}
