using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// Training forward. Statistics: shifted sums Σd and Σd² with d = x - K in double, K the channel's
/// first value (0 if that is not finite, so infinities propagate as in the reference). Because K is
/// one of the values, (mean - K)² ≤ M·var, so var = (Σd² - (Σd)²/M)/M loses at most a factor M+1
/// to cancellation: its relative error stays below about 2(M+1)·2^-53, never the float one-pass
/// E[x²] - E[x]² whose error is (mean²/var)·2^-24.
/// </summary>
internal readonly unsafe struct ForwardTrainingPass(
    float* x, float* y, float* gamma, float* beta, float* batchMean, float* batchVariance, float* batchInvStd,
    float* runningMean, float* runningVariance, in TensorShape shape, BatchNormOptions options) : IReducingPass
{
    private readonly TensorShape shape = shape;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Prepare(int c, in Scratch scratch)
    {
        float first = x[shape.IndexOf(0, c, 0)];
        scratch.Centers[c] = float.IsFinite(first) ? first : 0.0;
    }

    public void ReduceRun<TV, TW>(nint offset, nint length, double center, ref double first, ref double second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Reductions.RowDeviations<TV, TW>(x + offset, length, center, ref first, ref second);

    public void ReduceRows<TV, TW>(nint offset, int rows, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Reductions.ColumnDeviations<TV, TW>(x + offset, shape.C, rows, centers, first, second);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Finalize(int c, double sum, double squares, in Scratch scratch)
    {
        int m = shape.M;
        double mean = scratch.Centers[c] + sum / m;
        // Rounding can leave the difference a hair below 0 for a (nearly) constant channel; a
        // variance is never negative. Math.Max keeps a NaN.
        double variance = Math.Max(0.0, (squares - sum * sum / m) / m);
        double invStd = 1.0 / Math.Sqrt(variance + options.Epsilon);
        batchMean[c] = (float)mean;
        batchVariance[c] = (float)variance;
        batchInvStd[c] = (float)invStd;
        if (runningMean != null)
        {
            runningMean[c] = (float)RunningStatsRule.UpdateMean(options.Convention, options.Momentum, runningMean[c], mean);
            runningVariance[c] = (float)RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, runningVariance[c], variance, m);
        }

        float hi = (float)mean;
        scratch.SetCoefficient(NormalizeSlots.MeanHigh, c, hi);
        scratch.SetCoefficient(NormalizeSlots.MeanLow, c, (float)(mean - hi));
        scratch.SetCoefficient(NormalizeSlots.Scale, c, (float)(ChannelParameters.At(gamma, c, 1.0) * invStd));
        scratch.SetCoefficient(NormalizeSlots.Shift, c, (float)ChannelParameters.At(beta, c, 0.0));
    }

    public void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail =>
        Elementwise.Run<TV, NormalizeOperation<TC>, TTail>(length, new NormalizeOperation<TC>(x + offset, y + offset, coefficients), streaming);
}
