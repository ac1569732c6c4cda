namespace BatchNorm.Optimized;

/// <summary>
/// When outputs are stored non-temporally (bypassing the caches). Both thresholds are one policy:
/// a large output written through the cache would evict the inputs a training step reads twice
/// (the reduction, then the apply), while non-temporal stores pay off only over many whole cache
/// lines. Which stores are non-temporal changes speed only, never the bits stored.
/// </summary>
internal static class StreamingPolicy
{
    /// <summary>Outputs at least this large (8 MiB, a quarter of this machine's 32 MiB L3) stream.</summary>
    public const long MinOutputBytes = 8L << 20;

    /// <summary>
    /// Within a streaming output, runs shorter than this (in floats) are stored normally: short runs
    /// would leave partial lines in the write-combining buffers.
    /// </summary>
    public const int MinRunLength = 1024;

    /// <summary>True when an output of this many floats streams.</summary>
    public static bool Streams(long elements) => elements * sizeof(float) >= MinOutputBytes;
}
