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

    /// <summary>sumDy += Σ dy; sumDyDeviation += Σ dy * (x - mean) over [0..n), one channel, dy read from its source.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowGradients<TV, TW, TG>(float* x, TG dy, nint n, double mean, ref double sumDy, ref double sumDyDeviation)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TG : struct, IGradientSource<TG>
    {
        TW m = TW.Broadcast(mean), g0 = TW.Zero, p0 = TW.Zero, g1 = TW.Zero, p1 = TW.Zero;
        nint i = 0;
        for (; i <= n - 2 * TV.Count; i += 2 * TV.Count)
        {
            TW.AccumulateGradients(TV.Load(x + i), dy.Load<TV>(i), m, ref g0, ref p0);
            TW.AccumulateGradients(TV.Load(x + i + TV.Count), dy.Load<TV>(i + TV.Count), m, ref g1, ref p1);
        }

        if (i <= n - TV.Count)
        {
            TW.AccumulateGradients(TV.Load(x + i), dy.Load<TV>(i), m, ref g0, ref p0);
            i += TV.Count;
        }

        var tailDy = Scalar.Wide.Zero;
        var tailProduct = Scalar.Wide.Zero;
        for (; i < n; i++)
            Scalar.Wide.AccumulateGradients(Scalar.Load(x + i), dy.Load<Scalar>(i), Scalar.Wide.Broadcast(mean), ref tailDy, ref tailProduct);
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
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Columns<TV, TW, DeviationSums>(new DeviationSums(x), c, rows, shift, sum, squares);

    /// <summary>
    /// Channels-last: over <paramref name="rows"/> consecutive rows of c channels, sumDy[j] += Σ dy[r, j]
    /// and sumDyDeviation[j] += Σ dy[r, j] * (x[r, j] - mean[j]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnGradients<TV, TW, TG>(float* x, TG dy, nint c, int rows, double* mean, double* sumDy, double* sumDyDeviation)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TG : struct, IGradientSource<TG> =>
        Columns<TV, TW, GradientSums<TG>>(new GradientSums<TG>(x, dy), c, rows, mean, sumDy, sumDyDeviation);

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

    /// <summary>
    /// The channels-last driver: two vectors of channels at a time (twice the independent
    /// accumulator chains per row, so the add latency is hidden), then one, then the tail channels
    /// lane by lane. Each channel's sums run row after row in its own lane, whatever the width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<TV, TW, TS>(TS sums, nint c, int rows, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
    {
        nint j = 0;
        for (; j <= c - (2 * TV.Count); j += 2 * TV.Count)
            ColumnPair<TV, TW, TS>(sums, c, rows, j, centers, first, second);
        for (; j <= c - TV.Count; j += TV.Count)
            Column<TV, TW, TS>(sums, c, rows, j, centers, first, second);
        for (; j < c; j++)
            Column<Scalar, Scalar.Wide, TS>(sums, c, rows, j, centers, first, second);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<TV, TW, TS>(TS sums, nint c, int rows, nint j, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
    {
        TW f = TW.Load(first + j), s = TW.Load(second + j), k = TW.Load(centers + j);
        for (nint at = j, end = j + (rows * c); at < end; at += c)
            sums.Accumulate<TV, TW>(at, k, ref f, ref s);
        TW.Store(first + j, f);
        TW.Store(second + j, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnPair<TV, TW, TS>(TS sums, nint c, int rows, nint j, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
    {
        nint j1 = j + TV.Count;
        TW f0 = TW.Load(first + j), s0 = TW.Load(second + j), k0 = TW.Load(centers + j);
        TW f1 = TW.Load(first + j1), s1 = TW.Load(second + j1), k1 = TW.Load(centers + j1);
        for (nint at = j, end = j + (rows * c); at < end; at += c)
        {
            sums.Accumulate<TV, TW>(at, k0, ref f0, ref s0);
            sums.Accumulate<TV, TW>(at + TV.Count, k1, ref f1, ref s1);
        }

        TW.Store(first + j, f0);
        TW.Store(second + j, s0);
        TW.Store(first + j1, f1);
        TW.Store(second + j1, s1);
    }
}

/// <summary>The two sums a channels-last reduction accumulates, per element offset: one operator struct per pass kind.</summary>
internal interface IColumnSums
{
    /// <summary>Adds the TV.Count elements at offset <paramref name="at"/> into the two sums, given their channels' centers.</summary>
    void Accumulate<TV, TW>(nint at, TW center, ref TW first, ref TW second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>;
}

/// <summary>Σ (x - shift) and Σ (x - shift)^2.</summary>
internal readonly unsafe struct DeviationSums(float* x) : IColumnSums
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Accumulate<TV, TW>(nint at, TW center, ref TW first, ref TW second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        TW.AccumulateDeviations(TV.Load(x + at), center, ref first, ref second);
}

/// <summary>Σ dy and Σ dy * (x - mean), dy read from its source.</summary>
internal readonly unsafe struct GradientSums<TG>(float* x, TG dy) : IColumnSums
    where TG : struct, IGradientSource<TG>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Accumulate<TV, TW>(nint at, TW center, ref TW first, ref TW second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        TW.AccumulateGradients(TV.Load(x + at), dy.Load<TV>(at), center, ref first, ref second);
}
