using System.Numerics;
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

    public float* Output => y;

    public int InputTensors => 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Prepare(in Scratch scratch)
    {
        for (int c = 0; c < shape.C; c++)
        {
            float first = x[shape.IndexOf(0, c, 0)];
            scratch.Centers[c] = float.IsFinite(first) ? first : 0.0;
        }
    }

    /// <summary>One input: 32 rows (measured against 8 and 16: 32x64x56x56 channels-last 2.3-3.1 ms at 8, 1.7-2.1 at 32).</summary>
    public int RowBlock => 32;

    public void ReduceRun<TV, TW>(nint offset, nint length, double center, ref double first, ref double second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Reductions.RowDeviations<TV, TW>(x + offset, length, center, ref first, ref second);

    public void ReduceRows<TV, TW>(nint offset, int rows, double* centers, double* first, double* second, RowsWalk walk)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Reductions.ColumnDeviations<TV, TW>(x + offset, shape.C, rows, centers, first, second, walk);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Finalize(int c, double sum, double squares, in Scratch scratch)
    {
        int m = shape.M;
        double mean = scratch.Centers[c] + sum / m;
        // Rounding can leave the difference a hair below 0 for a (nearly) constant channel; a
        // variance is never negative. Math.Max keeps a NaN.
        double variance = Math.Max(0.0, (squares - sum * sum / m) / m);
        Publish(c, mean, variance, ChannelParameters.InvStd(variance, options.Epsilon), scratch);
    }

    /// <summary>
    /// <see cref="Finalize"/> for channels [c0, c0 + count), whose sums are sums[j] and squares[j]
    /// for channel c0 + j: the statistics a vector of channels at a time into buffers (the
    /// divisions and square roots are most of a channel's cost), each lane bit for bit the scalar
    /// formula, since IEEE division and square root round correctly in every lane; then each
    /// channel's outputs from the buffers. Publishing a vector's lanes as soon as it was computed
    /// waited on its square root and division every time (C = 1024 took 8 us).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void FinalizeBlock(int c0, int count, double* sums, double* squares, in Scratch scratch)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            double* means = stackalloc double[StatisticsBlock], variances = stackalloc double[StatisticsBlock], invStds = stackalloc double[StatisticsBlock];
            var m = new Vector<double>(shape.M);
            var epsilon = new Vector<double>(options.Epsilon);
            while (j <= count - Vector<double>.Count)
            {
                int block = Math.Min(StatisticsBlock, count - j);
                block -= block % Vector<double>.Count;
                for (int k = 0; k < block; k += Vector<double>.Count)
                {
                    var sum = Vector.Load(sums + j + k);
                    var difference = (Vector.Load(squares + j + k) - (sum * sum / m)) / m;
                    // Math.Max(0, v) lane by lane: v where v > 0 or v is NaN, else +0.
                    var variance = Vector.ConditionalSelect(Vector.GreaterThan(difference, Vector<double>.Zero) | ~Vector.Equals(difference, difference), difference, Vector<double>.Zero);
                    Vector.Store(Vector.Load(scratch.Centers + c0 + j + k) + (sum / m), means + k);
                    Vector.Store(variance, variances + k);
                    Vector.Store(ChannelParameters.InvStd(variance, epsilon), invStds + k);
                }

                for (int k = 0; k < block; k++)
                    Publish(c0 + j + k, means[k], variances[k], invStds[k], scratch);
                j += block;
            }
        }

        ChannelParameters.FinalizeEach(this, c0 + j, count - j, sums + j, squares + j, scratch);
    }

    /// <summary>Channels whose statistics <see cref="FinalizeBlock"/> buffers at a time.</summary>
    private const int StatisticsBlock = 64;

    /// <summary>Writes channel c's statistics, running statistics and apply coefficients.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Publish(int c, double mean, double variance, double invStd, in Scratch scratch)
    {
        batchMean[c] = (float)mean;
        batchVariance[c] = (float)variance;
        batchInvStd[c] = (float)invStd;
        if (runningMean != null)
        {
            runningMean[c] = (float)RunningStatsRule.UpdateMean(options.Convention, options.Momentum, runningMean[c], mean);
            runningVariance[c] = (float)RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, runningVariance[c], variance, shape.M);
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
        Normalization.Run<TV, TC, TTail, MeanPair>(x + offset, y + offset, length, coefficients, streaming, options.Activation);
}
