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
    /// Channels-last with few rows: a task is a strip of channels over all M rows, small enough to stay
    /// in L2 from its reduction to its apply, so it reduces, finalizes and applies its channels alone.
    /// </summary>
    ColumnStrips,
}

/// <summary>
/// How a tensor's work is cut into tasks. The cut depends on the shape alone, never on the thread
/// count, and partial sums are combined in chunk order, so results are bitwise the same for any
/// degree of parallelism.
/// </summary>
internal readonly record struct Partition(Traversal Traversal, int N, int C, int S, int Chunks, int StripWidth = 0)
{
    /// <summary>At most this many elements in one channel-runs chunk: 512 KiB, half a core's L2.</summary>
    public const int MaxChannelChunk = 1 << 17;

    /// <summary>Runs at least this long (4 KiB) are walked channel by channel; shorter ones in memory order.</summary>
    public const int MinChannelRun = 1024;

    /// <summary>Aim for this many elements in one sample-runs or rows chunk.</summary>
    public const int RowChunkElements = 1 << 16;

    /// <summary>Below this many elements a chunk is not worth a task of its own.</summary>
    public const int MinChunk = 1 << 13;

    /// <summary>Enough tasks to balance a few cores when the tensor allows it (C = 1 with a large M included).</summary>
    public const int MinTasks = 16;

    /// <summary>At most this many bytes in one column strip (all M rows of its channels): 256 KiB, well inside a core's L2.</summary>
    public const int MaxStripBytes = 1 << 18;

    /// <summary>Column strips are a multiple of this many channels wide: one 512-bit vector of floats.</summary>
    public const int StripAlignment = 16;

    public int M => N * S;

    public int Tasks => Traversal == Traversal.ChannelRuns ? C * Chunks : Chunks;

    /// <summary>True when each task holds whole channels (a channel run of one chunk, or a column strip): it can reduce, finalize and apply them alone.</summary>
    public bool WholeChannelsPerTask => Traversal == Traversal.ColumnStrips || (Traversal == Traversal.ChannelRuns && Chunks == 1);

    /// <summary>Units a chunk range counts: values of a channel, samples, rows, or channels.</summary>
    public long Units => Traversal switch
    {
        Traversal.SampleRuns => N,
        Traversal.ColumnStrips => C,
        Traversal.ChannelRuns or Traversal.Rows => M,
        _ => throw new InvalidOperationException($"no units for traversal {Traversal}"),
    };

    /// <summary>The partition of a pass with a reduction: column strips where they fit.</summary>
    public static Partition For(in TensorShape shape) => Plan(shape, strips: true);

    /// <summary>
    /// The partition of an element-wise pass: never column strips, whose short row segments would
    /// only cost loop overhead when there is no reduction to keep in cache.
    /// </summary>
    public static Partition ForApply(in TensorShape shape) => Plan(shape, strips: false);

    /// <summary>Partial-sum slots a reduction over this partition needs: one per channel and chunk, or one per channel for column strips.</summary>
    public long PartialSlots => Traversal == Traversal.ColumnStrips ? C : (long)C * Chunks;

    private static Partition Plan(in TensorShape shape, bool strips)
    {
        long m = shape.M, c = shape.C, total = m * c;
        if (shape.Layout == Layout.ChannelsFirst && shape.S >= MinChannelRun)
        {
            // Chunks of at most MaxChannelChunk; more (down to MinChunk) when that leaves fewer than MinTasks tasks.
            long chunks = Math.Max(CeilDiv(m, MaxChannelChunk), Math.Min(CeilDiv(MinTasks, c), m / MinChunk));
            return new Partition(Traversal.ChannelRuns, shape.N, shape.C, shape.S, (int)Math.Clamp(chunks, 1, m));
        }

        var traversal = shape.Layout == Layout.ChannelsFirst && shape.S > 1 ? Traversal.SampleRuns : Traversal.Rows;
        if (strips && traversal == Traversal.Rows && StripWidthFor(m, c, total) is int width and > 0)
            return new Partition(Traversal.ColumnStrips, shape.N, shape.C, shape.S, (int)CeilDiv(c, width), width);

        long units = traversal == Traversal.SampleRuns ? shape.N : m;
        // Chunks of about RowChunkElements; more (down to MinChunk) when that leaves fewer than MinTasks tasks.
        long rowChunks = Math.Max(CeilDiv(total, RowChunkElements), Math.Min(MinTasks, total / MinChunk));
        return new Partition(traversal, shape.N, shape.C, shape.S, (int)Math.Clamp(rowChunks, 1, units));
    }

    /// <summary>Chunk k's range [start, end) of units: even shares, or for column strips whole strips of <see cref="StripWidth"/> channels (the last one narrower).</summary>
    public (long Start, long End) ChunkRange(int k) => Traversal == Traversal.ColumnStrips
        ? ((long)k * StripWidth, Math.Min(C, (long)(k + 1) * StripWidth))
        : ((long)k * Units / Chunks, (long)(k + 1) * Units / Chunks);

    /// <summary>
    /// The width of the column strips for M rows of C channels: at least as many strips as the tensor
    /// is worth tasks (up to <see cref="MinTasks"/>), each a multiple of <see cref="StripAlignment"/>
    /// channels and at most <see cref="MaxStripBytes"/>. 0 when no such strips exist: too many rows
    /// for the narrowest strip, or too few channels for that many strips.
    /// </summary>
    private static int StripWidthFor(long m, long c, long total)
    {
        long widest = MaxStripBytes / (m * sizeof(float)) / StripAlignment * StripAlignment;
        long tasks = Math.Clamp(total / MinChunk, 1, MinTasks);
        long width = Math.Min(widest, CeilDiv(CeilDiv(c, tasks), StripAlignment) * StripAlignment);
        return width >= StripAlignment && CeilDiv(c, width) >= tasks ? (int)width : 0;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
