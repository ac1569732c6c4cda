using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// Training backward: Σdy and Σdy·(x - mean) in double (x - mean exact in double for float
/// inputs), then dbeta = Σdy, dgamma = istd·Σdy·(x - mean), and
/// dx = k1·((dy - mean(dy)) + (x - mean)·k3) with k1 = gamma·istd, k3 = -istd·dgamma/M; dy
/// read from <typeparamref name="TG"/> (gated by a fused ReLU's forward y, or as it is).
/// </summary>
internal readonly unsafe struct BackwardTrainingPass<TG>(
    float* x, TG dy, float* gamma, float* savedMean, float* savedInvStd, float* dx, float* dgamma, float* dbeta, in TensorShape shape)
    : IReducingPass
    where TG : struct, IGradientSource<TG>
{
    private readonly TensorShape shape = shape;

    public float* Output => dx;

    public int InputTensors => 1 + TG.Tensors;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Prepare(in Scratch scratch)
    {
        for (int c = 0; c < shape.C; c++)
            scratch.Centers[c] = savedMean[c];
    }

    /// <summary>Two inputs (x and dy): 16 rows (measured against 8 and 32: 32x64x56x56 channels-last 3.9-4.7 ms at 8, 3.4-3.9 at 16, 3.7-5.1 at 32).</summary>
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
        int m = shape.M;
        double invStd = savedInvStd[c];
        double dg = sumDyDeviation * invStd;
        double k1 = ChannelParameters.At(gamma, c, 1.0) * invStd;
        dbeta[c] = (float)sumDy;
        dgamma[c] = (float)dg;
        scratch.SetCoefficient(TrainingGradientSlots.Mean, c, savedMean[c]);
        scratch.SetCoefficient(TrainingGradientSlots.MeanDy, c, (float)(sumDy / m));
        scratch.SetCoefficient(TrainingGradientSlots.DyScale, c, (float)k1);
        scratch.SetCoefficient(TrainingGradientSlots.CentredScale, c, (float)(-invStd * dg / m));
    }

    public void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail =>
        Elementwise.Run<TV, TrainingInputGradientOperation<TC, TG>, TTail>(length, new TrainingInputGradientOperation<TC, TG>(x + offset, dy.At(offset), dx + offset, coefficients), streaming);
}
