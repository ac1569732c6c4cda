namespace BatchNorm.Optimized;

/// <summary>
/// How a tensor's work is cut into tasks. The cut depends on the shape alone, never on the thread
/// count, and partial sums are combined in chunk order, so results are bitwise the same for any
/// degree of parallelism.
/// </summary>
/// <remarks>
/// Channels-first: each channel's M values (logical order n, s) are cut into <see cref="Chunks"/>
/// ranges; a task is one (channel, range). When a channel is one chunk, the statistics, the
/// finalization and the normalization of that channel run back to back in one task, while its
/// values are still in the core's L2 cache. Channels-last (and any S = 1 tensor, whose two layouts
/// are the same memory): the M rows of C channels are cut into <see cref="Chunks"/> ranges of rows.
/// </remarks>
internal readonly record struct Partition(Layout Layout, int N, int C, int S, int Chunks)
{
    /// <summary>At most this many elements in one channels-first chunk: 512 KiB, half a core's L2.</summary>
    public const int MaxChannelChunk = 1 << 17;

    /// <summary>Aim for this many elements in one channels-last chunk.</summary>
    public const int RowChunkElements = 1 << 16;

    /// <summary>Below this many elements a chunk is not worth a task of its own.</summary>
    public const int MinChunk = 1 << 13;

    /// <summary>Enough tasks to balance a few cores when the tensor allows it (C = 1 with a large M included).</summary>
    public const int MinTasks = 16;

    public int M => N * S;

    public int Tasks => Layout == Layout.ChannelsFirst ? C * Chunks : Chunks;

    /// <summary>True when each channels-first task holds a whole channel.</summary>
    public bool ChannelPerTask => Layout == Layout.ChannelsFirst && Chunks == 1;

    public static Partition For(in TensorShape shape)
    {
        long m = shape.M, c = shape.C;
        if (shape.Layout == Layout.ChannelsFirst && shape.S > 1)
        {
            long chunks = Math.Max(1, CeilDiv(m, MaxChannelChunk));
            if (c * chunks < MinTasks)
                chunks = Math.Max(chunks, Math.Min(CeilDiv(MinTasks, c), m / MinChunk));
            return new Partition(Layout.ChannelsFirst, shape.N, shape.C, shape.S, (int)Math.Clamp(chunks, 1, m));
        }

        long total = m * c;
        long rowChunks = Math.Max(CeilDiv(total, RowChunkElements), Math.Min(MinTasks, total / MinChunk));
        return new Partition(Layout.ChannelsLast, shape.N, shape.C, shape.S, (int)Math.Clamp(rowChunks, 1, m));
    }

    /// <summary>Chunk k's range [start, end) of logical positions (channels-first) or rows (channels-last).</summary>
    public (long Start, long End) ChunkRange(int k) => ((long)k * M / Chunks, (long)(k + 1) * M / Chunks);

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
