namespace BatchNorm.Optimized;

/// <summary>
/// The order a channels-last reduction reads a block of rows in. Every walk adds each channel's
/// values row after row, in double, in that channel's own lane, so all walks give the same bits;
/// they differ only in how memory is touched, which decides their speed.
/// </summary>
internal enum RowsWalk
{
    /// <summary>Down the columns: a pair of vectors of channels through every row of the block, the accumulators in registers.</summary>
    Columns,

    /// <summary><see cref="Columns"/>, prefetching the same columns of the next block while it walks.</summary>
    PrefetchedColumns,

    /// <summary>In memory order four rows at a time: each vector of channels through four rows, the accumulators in L1.</summary>
    Panels,

    /// <summary>In memory order one row at a time, the accumulators in L1: every tensor is read as one sequential stream.</summary>
    Rows,
}

/// <summary>Which <see cref="RowsWalk"/> a channels-last reduction takes.</summary>
internal static class RowsWalkPolicy
{
    /// <summary>
    /// Rows of at least this many channels (512 bytes, 8 cache lines) are wide: a column walk visits
    /// each of their lines in a separate trip down the block, which defeats the hardware prefetchers
    /// (they follow ascending lines in a page), and a memory-order walk has enough vectors in a row
    /// for its accumulator stores to be read back without stalling.
    /// </summary>
    public const int MinWideRow = 128;

    /// <summary>True when a partition walks rows of at least <see cref="MinWideRow"/> channels.</summary>
    public static bool IsWide(in Partition plan) => plan.Traversal == Traversal.Rows && plan.C >= MinWideRow;

    /// <summary>
    /// The walk for a reduction over <paramref name="plan"/>'s rows in <paramref name="inputTensors"/>
    /// tensors, by a call that also writes one tensor (a partition that does not walk rows reduces
    /// no rows: <see cref="RowsWalk.Columns"/>, unused). Measured on an
    /// AMD EPYC (Zen 4, 2 threads, 32 MiB L3, AVX-512 and AVX2 alike), each walk against the others in
    /// the same process, round by round:
    /// <list type="bullet">
    /// <item>Narrow rows (C = 32, 64): the column walk covers a row in one to four trips; memory order
    /// was up to 2x slower (32x64x56x56 backward 3.2 ms in columns, 4.1 in rows), prefetching no better.</item>
    /// <item>Wide rows, data beyond half the last-level cache (it does not stay there between the
    /// reduction and the apply, nor between calls): one input prefetches the next block's columns
    /// (64x256x14x14 training forward 1.24-1.34 ms to 0.84-1.04); two or more read in memory order,
    /// a row at a time (that backward 2.5-3.1 ms to 1.25-1.35; four-row panels 1.7-1.9, whose four
    /// interleaved streams the prefetchers do not follow).</item>
    /// <item>Wide rows, data within half the last-level cache: one input walks the columns (the
    /// other walks 0-30% slower on 1024x512 and 256x1024); two or more read four-row panels, which
    /// store the accumulators a quarter as often as single rows (1024x512 backward 0.20 ms in columns,
    /// 0.17 in rows, 0.16 in panels).</item>
    /// </list>
    /// </summary>
    public static RowsWalk For(in Partition plan, int inputTensors)
    {
        if (!IsWide(plan))
            return RowsWalk.Columns;
        return (inputTensors, StreamingPolicy.Cached((long)plan.M * plan.C, inputTensors)) switch
        {
            (1, true) => RowsWalk.Columns,
            (1, false) => RowsWalk.PrefetchedColumns,
            (_, true) => RowsWalk.Panels,
            (_, false) => RowsWalk.Rows,
        };
    }
}
