using BatchNorm;
using BatchNorm.Harness.Kernels;
using MyKernels;

namespace UserKernels;

/// <summary>
/// A user's kernel that stores its data in bfloat16: the sample's plain kernel, its y and dx rounded
/// to bfloat16 (to nearest, ties to even). It declares the format through the interface's
/// <see cref="IBatchNormKernel.Precision"/>, which bnverify reads across the assembly boundary.
/// </summary>
public sealed class BFloat16Kernel : IBatchNormKernel
{
    private readonly PlainBatchNorm plain = new();

    public string Name => "plain-bf16";

    public DataPrecision Precision => DataPrecision.BFloat16;

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        plain.ForwardTraining(shape, options, t);
        Store(t.Y);
    }

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
    {
        plain.ForwardInference(shape, options, t);
        Store(t.Y);
    }

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        plain.BackwardTraining(shape, t);
        Store(t.Dx);
    }

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        plain.BackwardInference(shape, options, t);
        Store(t.Dx);
    }

    private static void Store(Span<float> output) => DataPrecisions.RoundAll(output, DataPrecision.BFloat16);
}
