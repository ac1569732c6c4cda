using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Loops;

/// <summary>
/// The per-channel sums, accumulated in double. Two shapes of loop: a row of one channel reduced
/// to a scalar pair (channels-first), and rows of C channels added lane-wise into per-channel
/// accumulators (channels-last, in any <see cref="RowsWalk"/>). Tails run the same step at the <see cref="Scalar"/> width.
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
    /// and squares[j] += Σ (x[r, j] - shift[j])^2, in the given walk (the same bits in every walk).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnDeviations<TV, TW>(float* x, nint c, int rows, double* shift, double* sum, double* squares, RowsWalk walk)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        Walk<TV, TW, DeviationSums>(new DeviationSums(x), c, rows, shift, sum, squares, walk);

    /// <summary>
    /// Channels-last: over <paramref name="rows"/> consecutive rows of c channels, sumDy[j] += Σ dy[r, j]
    /// and sumDyDeviation[j] += Σ dy[r, j] * (x[r, j] - mean[j]), in the given walk (the same bits in every walk).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnGradients<TV, TW, TG>(float* x, TG dy, nint c, int rows, double* mean, double* sumDy, double* sumDyDeviation, RowsWalk walk)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TG : struct, IGradientSource<TG> =>
        Walk<TV, TW, GradientSums<TG>>(new GradientSums<TG>(x, dy), c, rows, mean, sumDy, sumDyDeviation, walk);

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

    /// <summary>The channels-last driver: the block of rows in the walk asked for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Walk<TV, TW, TS>(TS sums, nint c, int rows, double* centers, double* first, double* second, RowsWalk walk)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
    {
        switch (walk)
        {
            case RowsWalk.Columns:
                Columns<TV, TW, TS>(sums, c, rows, centers, first, second, prefetchNext: false);
                break;
            case RowsWalk.PrefetchedColumns:
                Columns<TV, TW, TS>(sums, c, rows, centers, first, second, prefetchNext: true);
                break;
            case RowsWalk.Panels:
                int row = 0;
                for (; row <= rows - 4; row += 4)
                    Panel<TV, TW, TS, FourRows>(sums, c, row * c, centers, first, second);
                for (; row < rows; row++)
                    Panel<TV, TW, TS, OneRow>(sums, c, row * c, centers, first, second);
                break;
            case RowsWalk.Rows:
                for (int r = 0; r < rows; r++)
                    Panel<TV, TW, TS, OneRow>(sums, c, r * c, centers, first, second);
                break;
            default:
                throw new InvalidOperationException($"no reduction for walk {walk}");
        }
    }

    /// <summary>
    /// Down the columns: two vectors of channels at a time (twice the independent accumulator
    /// chains per row, so the add latency is hidden), then one, then the tail channels lane by lane;
    /// with <paramref name="prefetchNext"/>, each step also prefetches the lines the same step of the
    /// next block (rows further on) will read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<TV, TW, TS>(TS sums, nint c, int rows, double* centers, double* first, double* second, bool prefetchNext)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
    {
        nint j = 0;
        for (; j <= c - (2 * TV.Count); j += 2 * TV.Count)
            ColumnPair<TV, TW, TS>(sums, c, rows, j, centers, first, second, prefetchNext);
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
    private static void ColumnPair<TV, TW, TS>(TS sums, nint c, int rows, nint j, double* centers, double* first, double* second, bool prefetchNext)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
    {
        nint j1 = j + TV.Count, nextBlock = rows * c;
        TW f0 = TW.Load(first + j), s0 = TW.Load(second + j), k0 = TW.Load(centers + j);
        TW f1 = TW.Load(first + j1), s1 = TW.Load(second + j1), k1 = TW.Load(centers + j1);
        for (nint at = j, end = j + (rows * c); at < end; at += c)
        {
            if (prefetchNext)
                sums.Prefetch(at + nextBlock, 2 * TV.Count);
            sums.Accumulate<TV, TW>(at, k0, ref f0, ref s0);
            sums.Accumulate<TV, TW>(at + TV.Count, k1, ref f1, ref s1);
        }

        TW.Store(first + j, f0);
        TW.Store(second + j, s0);
        TW.Store(first + j1, f1);
        TW.Store(second + j1, s1);
    }

    /// <summary>
    /// In memory order: every vector of channels of the <typeparamref name="TR"/> rows at
    /// <paramref name="at"/>, each loading its accumulators once, adding the rows in order, storing
    /// them; then the tail channels lane by lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Panel<TV, TW, TS, TR>(TS sums, nint c, nint at, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
        where TR : struct, IRowCount
    {
        nint j = 0;
        for (; j <= c - TV.Count; j += TV.Count)
            PanelColumn<TV, TW, TS, TR>(sums, c, at, j, centers, first, second);
        for (; j < c; j++)
            PanelColumn<Scalar, Scalar.Wide, TS, TR>(sums, c, at, j, centers, first, second);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PanelColumn<TV, TW, TS, TR>(TS sums, nint c, nint at, nint j, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TS : struct, IColumnSums
        where TR : struct, IRowCount
    {
        TW f = TW.Load(first + j), s = TW.Load(second + j), k = TW.Load(centers + j);
        for (int r = 0; r < TR.Count; r++)
            sums.Accumulate<TV, TW>(at + (r * c) + j, k, ref f, ref s);
        TW.Store(first + j, f);
        TW.Store(second + j, s);
    }
}

/// <summary>How many rows a memory-order step reads: a type, so each count compiles to its own unrolled loop.</summary>
internal interface IRowCount
{
    static abstract int Count { get; }
}

/// <summary>One row a step (<see cref="RowsWalk.Rows"/>, and the rows a panel walk has left over).</summary>
internal readonly struct OneRow : IRowCount
{
    public static int Count => 1;
}

/// <summary>Four rows a step (<see cref="RowsWalk.Panels"/>).</summary>
internal readonly struct FourRows : IRowCount
{
    public static int Count => 4;
}

/// <summary>The two sums a channels-last reduction accumulates, per element offset: one operator struct per pass kind.</summary>
internal interface IColumnSums
{
    /// <summary>Adds the TV.Count elements at offset <paramref name="at"/> into the two sums, given their channels' centers.</summary>
    void Accumulate<TV, TW>(nint at, TW center, ref TW first, ref TW second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>;

    /// <summary>Prefetches the lines of <paramref name="count"/> elements at offset <paramref name="at"/> in every tensor it reads.</summary>
    void Prefetch(nint at, int count);
}

/// <summary>Σ (x - shift) and Σ (x - shift)^2.</summary>
internal readonly unsafe struct DeviationSums(float* x) : IColumnSums
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(nint at, int count) => CacheLines.Prefetch(x + at, count);

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
    public void Prefetch(nint at, int count)
    {
        CacheLines.Prefetch(x + at, count);
        dy.Prefetch(at, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Accumulate<TV, TW>(nint at, TW center, ref TW first, ref TW second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> =>
        TW.AccumulateGradients(TV.Load(x + at), dy.Load<TV>(at), center, ref first, ref second);
}
