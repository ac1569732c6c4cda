using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// Inference backward: the running statistics are constants, so dx = dy·(gamma·istd); dbeta = Σdy
/// and dgamma = istd·Σdy·(x - running mean), summed in double; dy read from <typeparamref name="TG"/>.
/// </summary>
internal readonly unsafe struct BackwardInferencePass<TG>(
    float* x, TG dy, float* gamma, float* runningMean, float* runningVariance, float* dx, float* dgamma, float* dbeta,
    in TensorShape shape, BatchNormOptions options) : IReducingPass, IInvStdPreparation
    where TG : struct, IGradientSource<TG>
{
    private readonly TensorShape shape = shape;

    public float* Output => dx;

    public int InputTensors => 1 + TG.Tensors;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Prepare(in Scratch scratch) => ChannelParameters.PrepareWithInvStd(this, runningVariance, options.Epsilon, scratch);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prepare(int c, double invStd, in Scratch scratch)
    {
        scratch.Centers[c] = runningMean[c];
        scratch.SetCoefficient(ScaleSlots.Scale, c, (float)(ChannelParameters.At(gamma, c, 1.0) * invStd));
    }

    /// <summary>Two inputs (x and dy): 16 rows, as the training backward.</summary>
    public int RowBlock => 16;

    public void ReduceRun<TV, TW>(nint offset, nint length, double center, ref double first, ref double second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Reductions.RowGradients<TV, TW, TG>(x + offset, dy.At(offset), length, center, ref first, ref second);

    public void ReduceRows<TV, TW>(nint offset, int rows, double* centers, double* first, double* second, RowsWalk walk)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Reductions.ColumnGradients<TV, TW, TG>(x + offset, dy.At(offset), shape.C, rows, centers, first, second, walk);

    /// <summary><see cref="Finalize"/> for channels [c0, c0 + count), channel by channel.</summary>
    public void FinalizeBlock(int c0, int count, double* sumsDy, double* sumsDyDeviation, in Scratch scratch) =>
        ChannelParameters.FinalizeEach(this, c0, count, sumsDy, sumsDyDeviation, scratch);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Finalize(int c, double sumDy, double sumDyDeviation, in Scratch scratch)
    {
        dbeta[c] = (float)sumDy;
        dgamma[c] = (float)(sumDyDeviation * ChannelParameters.InvStd(runningVariance[c], options.Epsilon));
    }

    public void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail =>
        Elementwise.Run<TV, ScaleOperation<TC, TG>, TTail>(length, new ScaleOperation<TC, TG>(dy.At(offset), dx + offset, coefficients), streaming);
}
