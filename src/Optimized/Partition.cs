namespace BatchNorm.Optimized;

/// <summary>The order a pass walks the tensor in.</summary>
internal enum Traversal
{
    /// <summary>Channels-first with long runs: a task is (channel, range of its M values); a whole channel can be reduced and applied while it is in L2.</summary>
    ChannelRuns,

    /// <summary>Channels-first with short runs: a task is a range of samples, walked in memory order, one run of S per channel.</summary>
    SampleRuns,

    /// <summary>Channels-last (and any S = 1 tensor, whose layouts are the same memory): a task is a range of rows of C channels.</summary>
    Rows,

    /// <summary>
    /// Channels-first with long runs, without a reduction: a task is a range of elements in memory
    /// order, cut into runs where a channel ends. With nothing to keep in cache between phases,
    /// walking memory in order serves the prefetchers best (8x32x112x112 inference, 2 threads:
    /// 0.21 ms in channel runs, 0.18-0.19 in memory order).
    /// </summary>
    Elements,
}

/// <summary>
/// How a tensor's work is cut into tasks. The cut depends on the shape alone, never on the thread
/// count, and partial sums are combined in chunk order, so results are bitwise the same for any
/// degree of parallelism.
/// </summary>
internal readonly record struct Partition(Traversal Traversal, int N, int C, int S, int Chunks)
{
    /// <summary>At most this many elements in one channel-runs chunk: 512 KiB, half a core's L2.</summary>
    public const int MaxChannelChunk = 1 << 17;

    /// <summary>Runs at least this long (4 KiB) are walked channel by channel; shorter ones in memory order.</summary>
    public const int MinChannelRun = 1024;

    /// <summary>Aim for this many elements in one sample-runs or rows chunk.</summary>
    public const int RowChunkElements = 1 << 16;

    /// <summary>Below this many elements a chunk is not worth a task of its own.</summary>
    public const int MinChunk = 1 << 13;

    /// <summary>
    /// A chunk cut only for balance holds at least this many values of each channel: each chunk
    /// writes, clears and combines two double partial sums a channel, which then cost at most a
    /// sixteenth of the data it reads (on the 1 MiB 256x1024 tensor, 16 chunks of 16 rows spent a
    /// fifth of the training forward on partial sums).
    /// </summary>
    public const int MinValuesPerPartial = 64;

    /// <summary>Enough tasks to balance a few cores when the tensor allows it (C = 1 with a large M included).</summary>
    public const int MinTasks = 16;

    public int M => N * S;

    public int Tasks => Traversal == Traversal.ChannelRuns ? C * Chunks : Chunks;

    /// <summary>True when each channel-runs task holds a whole channel.</summary>
    public bool ChannelPerTask => Traversal == Traversal.ChannelRuns && Chunks == 1;

    /// <summary>Units a chunk range counts: values of a channel, samples, rows, or elements.</summary>
    public long Units => Traversal switch
    {
        Traversal.SampleRuns => N,
        Traversal.Elements => (long)M * C,
        Traversal.ChannelRuns or Traversal.Rows => M,
        _ => throw new InvalidOperationException($"no units for traversal {Traversal}"),
    };

    public static Partition For(in TensorShape shape)
    {
        long m = shape.M, c = shape.C, total = m * c;
        if (shape.Layout == Layout.ChannelsFirst && shape.S >= MinChannelRun)
        {
            // Chunks of at most MaxChannelChunk; more (down to MinChunk) when that leaves fewer than MinTasks tasks.
            long chunks = Math.Max(CeilDiv(m, MaxChannelChunk), Math.Min(CeilDiv(MinTasks, c), m / MinChunk));
            return new Partition(Traversal.ChannelRuns, shape.N, shape.C, shape.S, (int)Math.Clamp(chunks, 1, m));
        }

        var traversal = shape.Layout == Layout.ChannelsFirst && shape.S > 1 ? Traversal.SampleRuns : Traversal.Rows;
        long units = traversal == Traversal.SampleRuns ? shape.N : m;
        // Chunks of about RowChunkElements; more (down to MinChunk, and to MinValuesPerPartial values
        // of each channel) when that leaves fewer than MinTasks tasks.
        long rowChunks = Math.Max(CeilDiv(total, RowChunkElements), Math.Min(MinTasks, Math.Min(total / MinChunk, m / MinValuesPerPartial)));
        return new Partition(traversal, shape.N, shape.C, shape.S, (int)Math.Clamp(rowChunks, 1, units));
    }

    /// <summary>
    /// The partition of a pass without a reduction: where <see cref="For"/> walks channel runs, memory-order
    /// chunks of about <see cref="RowChunkElements"/> (more, down to <see cref="MinChunk"/>, when
    /// that leaves fewer than <see cref="MinTasks"/> tasks); otherwise <see cref="For"/>'s partition,
    /// which walks memory in order already.
    /// </summary>
    public static Partition ForApply(in TensorShape shape)
    {
        var plan = For(shape);
        if (plan.Traversal != Traversal.ChannelRuns)
            return plan;
        long total = shape.ElementCount;
        long chunks = Math.Max(CeilDiv(total, RowChunkElements), Math.Min(MinTasks, total / MinChunk));
        return new Partition(Traversal.Elements, shape.N, shape.C, shape.S, (int)Math.Clamp(chunks, 1, total));
    }

    /// <summary>Chunk k's range [start, end) of units.</summary>
    public (long Start, long End) ChunkRange(int k) => ((long)k * Units / Chunks, (long)(k + 1) * Units / Chunks);

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
