using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Loops;

/// <summary>
/// The per-channel sums, accumulated in double. Two shapes of loop: a row of one channel reduced
/// to a scalar pair (channels-first), and a row of C channels added lane-wise into per-channel
/// accumulators (channels-last). Tails run the same step at the <see cref="Scalar"/> width.
/// Error: each sum of n terms is within about (n / lanes) * 2^-53 * sum|term| of exact, far below
/// what float outputs resolve for any n a span can hold.
/// </summary>
internal static unsafe class Reductions
{
    /// <summary>sum += Σ (x - shift); squares += Σ (x - shift)^2 over x[0..n), one channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowDeviations<TV, TW>(float* x, nint n, double shift, ref double sum, ref double squares)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        // Two accumulator pairs hide the latency of the double adds.
        TW k = TW.Broadcast(shift), s0 = TW.Zero, q0 = TW.Zero, s1 = TW.Zero, q1 = TW.Zero;
        nint i = 0;
        for (; i <= n - 2 * TV.Count; i += 2 * TV.Count)
        {
            TW.AccumulateDeviations(TV.Load(x + i), k, ref s0, ref q0);
            TW.AccumulateDeviations(TV.Load(x + i + TV.Count), k, ref s1, ref q1);
        }

        if (i <= n - TV.Count)
        {
            TW.AccumulateDeviations(TV.Load(x + i), k, ref s0, ref q0);
            i += TV.Count;
        }

        var tailSum = Scalar.Wide.Zero;
        var tailSquares = Scalar.Wide.Zero;
        for (; i < n; i++)
            Scalar.Wide.AccumulateDeviations(Scalar.Load(x + i), Scalar.Wide.Broadcast(shift), ref tailSum, ref tailSquares);
        sum += TW.Sum(TW.Add(s0, s1)) + Scalar.Wide.Sum(tailSum);
        squares += TW.Sum(TW.Add(q0, q1)) + Scalar.Wide.Sum(tailSquares);
    }

    /// <summary>sumDy += Σ dy; sumDyDeviation += Σ dy * (x - mean) over [0..n), one channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowGradients<TV, TW>(float* x, float* dy, nint n, double mean, ref double sumDy, ref double sumDyDeviation)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        TW m = TW.Broadcast(mean), g0 = TW.Zero, p0 = TW.Zero, g1 = TW.Zero, p1 = TW.Zero;
        nint i = 0;
        for (; i <= n - 2 * TV.Count; i += 2 * TV.Count)
        {
            TW.AccumulateGradients(TV.Load(x + i), TV.Load(dy + i), m, ref g0, ref p0);
            TW.AccumulateGradients(TV.Load(x + i + TV.Count), TV.Load(dy + i + TV.Count), m, ref g1, ref p1);
        }

        if (i <= n - TV.Count)
        {
            TW.AccumulateGradients(TV.Load(x + i), TV.Load(dy + i), m, ref g0, ref p0);
            i += TV.Count;
        }

        var tailDy = Scalar.Wide.Zero;
        var tailProduct = Scalar.Wide.Zero;
        for (; i < n; i++)
            Scalar.Wide.AccumulateGradients(Scalar.Load(x + i), Scalar.Load(dy + i), Scalar.Wide.Broadcast(mean), ref tailDy, ref tailProduct);
        sumDy += TW.Sum(TW.Add(g0, g1)) + Scalar.Wide.Sum(tailDy);
        sumDyDeviation += TW.Sum(TW.Add(p0, p1)) + Scalar.Wide.Sum(tailProduct);
    }

    /// <summary>
    /// Channels-last: over <paramref name="rows"/> consecutive rows of c channels, sum[j] += Σ (x[r, j] - shift[j])
    /// and squares[j] += Σ (x[r, j] - shift[j])^2. Each accumulator is loaded and stored once per block of rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnDeviations<TV, TW>(float* x, nint c, int rows, double* shift, double* sum, double* squares)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        nint j = 0;
        for (; j <= c - (2 * TV.Count); j += 2 * TV.Count)
            ColumnDeviationsPair<TV, TW>(x, c, rows, j, shift, sum, squares);
        for (; j <= c - TV.Count; j += TV.Count)
            ColumnDeviationsStep<TV, TW>(x, c, rows, j, shift, sum, squares);
        for (; j < c; j++)
            ColumnDeviationsStep<Scalar, Scalar.Wide>(x, c, rows, j, shift, sum, squares);
    }

    /// <summary>
    /// Channels-last: over <paramref name="rows"/> consecutive rows of c channels, sumDy[j] += Σ dy[r, j]
    /// and sumDyDeviation[j] += Σ dy[r, j] * (x[r, j] - mean[j]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnGradients<TV, TW>(float* x, float* dy, nint c, int rows, double* mean, double* sumDy, double* sumDyDeviation)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        nint j = 0;
        for (; j <= c - (2 * TV.Count); j += 2 * TV.Count)
            ColumnGradientsPair<TV, TW>(x, dy, c, rows, j, mean, sumDy, sumDyDeviation);
        for (; j <= c - TV.Count; j += TV.Count)
            ColumnGradientsStep<TV, TW>(x, dy, c, rows, j, mean, sumDy, sumDyDeviation);
        for (; j < c; j++)
            ColumnGradientsStep<Scalar, Scalar.Wide>(x, dy, c, rows, j, mean, sumDy, sumDyDeviation);
    }

    /// <summary>
    /// target[j] += source[j] for j in [0, n): one chunk's partial sums added into the running
    /// combination, lane by lane, so each channel's sum is the same as one added alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddPartials<TV, TW>(double* target, double* source, nint n)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        nint j = 0;
        for (; j <= n - TV.Count; j += TV.Count)
            TW.Store(target + j, TW.Add(TW.Load(target + j), TW.Load(source + j)));
        for (; j < n; j++)
            target[j] += source[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnDeviationsStep<TV, TW>(float* x, nint c, int rows, nint j, double* shift, double* sum, double* squares)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        TW s = TW.Load(sum + j), q = TW.Load(squares + j), k = TW.Load(shift + j);
        for (int r = 0; r < rows; r++)
            TW.AccumulateDeviations(TV.Load(x + (r * c) + j), k, ref s, ref q);
        TW.Store(sum + j, s);
        TW.Store(squares + j, q);
    }

    /// <summary>
    /// Two adjacent vectors of channels at once: twice the independent accumulator chains per row,
    /// so the add latency is hidden; each channel's sums still run row after row in its own lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnDeviationsPair<TV, TW>(float* x, nint c, int rows, nint j, double* shift, double* sum, double* squares)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        nint j1 = j + TV.Count;
        TW s0 = TW.Load(sum + j), q0 = TW.Load(squares + j), k0 = TW.Load(shift + j);
        TW s1 = TW.Load(sum + j1), q1 = TW.Load(squares + j1), k1 = TW.Load(shift + j1);
        float* row = x + j;
        for (int r = 0; r < rows; r++, row += c)
        {
            TW.AccumulateDeviations(TV.Load(row), k0, ref s0, ref q0);
            TW.AccumulateDeviations(TV.Load(row + TV.Count), k1, ref s1, ref q1);
        }

        TW.Store(sum + j, s0);
        TW.Store(squares + j, q0);
        TW.Store(sum + j1, s1);
        TW.Store(squares + j1, q1);
    }

    /// <summary>Two adjacent vectors of channels at once (see <see cref="ColumnDeviationsPair{TV, TW}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnGradientsPair<TV, TW>(float* x, float* dy, nint c, int rows, nint j, double* mean, double* sumDy, double* sumDyDeviation)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        nint j1 = j + TV.Count;
        TW g0 = TW.Load(sumDy + j), p0 = TW.Load(sumDyDeviation + j), m0 = TW.Load(mean + j);
        TW g1 = TW.Load(sumDy + j1), p1 = TW.Load(sumDyDeviation + j1), m1 = TW.Load(mean + j1);
        nint at = j;
        for (int r = 0; r < rows; r++, at += c)
        {
            TW.AccumulateGradients(TV.Load(x + at), TV.Load(dy + at), m0, ref g0, ref p0);
            TW.AccumulateGradients(TV.Load(x + at + TV.Count), TV.Load(dy + at + TV.Count), m1, ref g1, ref p1);
        }

        TW.Store(sumDy + j, g0);
        TW.Store(sumDyDeviation + j, p0);
        TW.Store(sumDy + j1, g1);
        TW.Store(sumDyDeviation + j1, p1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnGradientsStep<TV, TW>(float* x, float* dy, nint c, int rows, nint j, double* mean, double* sumDy, double* sumDyDeviation)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        TW g = TW.Load(sumDy + j), p = TW.Load(sumDyDeviation + j), m = TW.Load(mean + j);
        for (int r = 0; r < rows; r++)
        {
            nint at = (r * c) + j;
            TW.AccumulateGradients(TV.Load(x + at), TV.Load(dy + at), m, ref g, ref p);
        }

        TW.Store(sumDy + j, g);
        TW.Store(sumDyDeviation + j, p);
    }
}
