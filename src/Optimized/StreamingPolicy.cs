using System.Globalization;

namespace BatchNorm.Optimized;

/// <summary>
/// When outputs are stored non-temporally (bypassing the caches; within such an output, runs
/// shorter than <see cref="Loops.Elementwise.MinAlignedRun"/> are stored normally). An output that cannot stay in the last-level cache beside its input gains nothing from being
/// written through it and evicts the input a training step reads twice (the reduction, then the
/// apply), while one that can stay there is read back from the cache by the next layer (and by
/// the next call of a benchmark); non-temporal stores pay off only over many whole cache lines.
/// Which stores are non-temporal changes speed only, never the bits stored.
/// </summary>
internal static class StreamingPolicy
{
    /// <summary>
    /// Outputs at least this large stream: half the last-level cache (Linux sysfs; 32 MiB assumed
    /// where it cannot be read), kept within 8 to 64 MiB. Measured on an AMD EPYC with 32 MiB of L3,
    /// 2 threads: at 8 MiB the 12.8 MiB outputs of 8x32x112x112 and 64x256x14x14 streamed and were
    /// 10-30% slower than through the cache (inference 0.39 against 0.30 ms), while the 25.7 MiB
    /// outputs of 32x64x56x56 were 20-35% faster streamed (inference 1.07 against 1.46 ms).
    /// </summary>
    public static readonly long MinOutputBytes = Math.Clamp(LastLevelCacheBytes() / 2, 8L << 20, 64L << 20);

    /// <summary>True when an output of this many floats streams.</summary>
    public static bool Streams(long elements) => elements * sizeof(float) >= MinOutputBytes;

    /// <summary>The largest cache CPU 0 reports in sysfs ("32768K"), or 32 MiB when none can be read.</summary>
    private static long LastLevelCacheBytes()
    {
        const long assumed = 32L << 20;
        try
        {
            long largest = 0;
            foreach (string dir in Directory.EnumerateDirectories("/sys/devices/system/cpu/cpu0/cache", "index*"))
            {
                string sizeFile = Path.Combine(dir, "size");
                if (File.Exists(sizeFile))
                    largest = Math.Max(largest, ParseSize(File.ReadAllText(sizeFile).Trim()));
            }

            return largest > 0 ? largest : assumed;
        }
        catch (IOException)
        {
            return assumed;
        }
        catch (UnauthorizedAccessException)
        {
            return assumed;
        }
    }

    /// <summary>"32768K" or "2M" or "512" (bytes) as bytes; 0 when it is none of these.</summary>
    private static long ParseSize(string text)
    {
        long unit = text.EndsWith('K') ? 1L << 10 : text.EndsWith('M') ? 1L << 20 : 1;
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value * unit : 0;
    }
}
