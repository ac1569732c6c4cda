using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace BatchNorm.Optimized;

/// <summary>Where the last-level cache size the policies use came from.</summary>
internal enum CacheSizeSource
{
    /// <summary>The environment variable <see cref="LastLevelCache.Variable"/> forced it (to measure the policies as on another machine).</summary>
    Forced,

    /// <summary>Linux sysfs: the largest cache CPU 0 lists.</summary>
    Sysfs,

    /// <summary>The processor's CPUID cache descriptors (leaf 4 on Intel, 0x8000001D or 0x80000006 on AMD).</summary>
    Cpuid,

    /// <summary>Neither could be read: <see cref="LastLevelCache.AssumedBytes"/>.</summary>
    Assumed,
}

/// <summary>
/// The size of the last-level cache, which decides speed only (<see cref="StreamingPolicy"/>,
/// <see cref="RowsWalkPolicy"/>), never the bits stored. Read once per process, in this order: the
/// variable <see cref="Variable"/> (bytes, or with a K or M suffix), sysfs, CPUID, else 32 MiB. A
/// guest whose sysfs lists no cache sizes usually still passes the host's CPUID descriptors through,
/// so the assumed size is the last resort, and <c>bnverify bench</c> prints which one it used.
/// </summary>
internal static class LastLevelCache
{
    /// <summary>The environment variable that forces the size, e.g. BNVERIFY_LLC_BYTES=16M.</summary>
    public const string Variable = "BNVERIFY_LLC_BYTES";

    /// <summary>The size used when nothing can be read: the L3 of the AMD EPYC machines the policies were measured on.</summary>
    public const long AssumedBytes = 32L << 20;

    private static readonly (long Bytes, CacheSizeSource Source, string? Error) Read = Detect();

    /// <summary>The size in bytes the policies use.</summary>
    public static long Bytes => Read.Bytes;

    /// <summary>Where <see cref="Bytes"/> came from.</summary>
    public static CacheSizeSource Source => Read.Source;

    /// <summary>
    /// Why <see cref="Variable"/> was not used, naming its value and the rule, or null when it is unset or valid. The size
    /// is then read as if it were unset; the CLI refuses to run (exit 2).
    /// </summary>
    public static string? ForcedError => Read.Error;

    /// <summary>One line for reports: "32 MiB (sysfs)".</summary>
    public static string Description =>
        string.Create(CultureInfo.InvariantCulture, $"{Bytes / (double)(1 << 20):0.##} MiB ({Source.ToString().ToLowerInvariant()})");

    private static (long, CacheSizeSource, string?) Detect()
    {
        string? forced = Environment.GetEnvironmentVariable(Variable);
        string? error = null;
        if (!string.IsNullOrEmpty(forced))
        {
            long bytes = ParseSize(forced.Trim());
            if (bytes > 0)
                return (bytes, CacheSizeSource.Forced, null);
            error = $"{Variable}={forced}: must be a positive number of bytes, optionally with a K or M suffix (e.g. 16M)";
        }

        long sysfs = FromSysfs();
        if (sysfs > 0)
            return (sysfs, CacheSizeSource.Sysfs, error);
        long cpuid = FromCpuid();
        return cpuid > 0 ? (cpuid, CacheSizeSource.Cpuid, error) : (AssumedBytes, CacheSizeSource.Assumed, error);
    }

    /// <summary>The largest cache CPU 0 lists in sysfs ("32768K"); 0 when none can be read.</summary>
    internal static long FromSysfs()
    {
        try
        {
            long largest = 0;
            foreach (string dir in Directory.EnumerateDirectories("/sys/devices/system/cpu/cpu0/cache", "index*"))
            {
                string sizeFile = Path.Combine(dir, "size");
                if (File.Exists(sizeFile))
                    largest = Math.Max(largest, ParseSize(File.ReadAllText(sizeFile).Trim()));
            }

            return largest;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// The largest cache CPUID describes; 0 when it describes none (not x86, or a hypervisor that hides them).
    /// Leaf 4 (Intel) and 0x8000001D (AMD, with topology extensions) list every cache in the same format;
    /// AMD's older 0x80000006 gives the L3 in EDX[31:18], in 512 KiB units.
    /// </summary>
    internal static long FromCpuid()
    {
        if (!X86Base.IsSupported)
            return 0;
        long largest = 0;
        foreach (int leaf in new[] { 4, unchecked((int)0x8000001D) })
        {
            if (!LeafExists(leaf))
                continue;
            for (int index = 0; index < 16; index++)
            {
                var (eax, ebx, ecx, _) = X86Base.CpuId(leaf, index);
                if ((eax & 0x1F) == 0)
                    break;
                long ways = ((ebx >> 22) & 0x3FF) + 1, partitions = ((ebx >> 12) & 0x3FF) + 1, line = (ebx & 0xFFF) + 1, sets = (uint)ecx + 1L;
                largest = Math.Max(largest, ways * partitions * line * sets);
            }
        }

        if (largest == 0 && LeafExists(unchecked((int)0x80000006)))
            largest = ((long)((uint)X86Base.CpuId(unchecked((int)0x80000006), 0).Edx >> 18)) * (512L << 10);
        return largest;
    }

    /// <summary>True when the processor implements the leaf: it is within the highest standard or extended leaf.</summary>
    private static bool LeafExists(int leaf)
    {
        int highest = X86Base.CpuId(leaf < 0 ? unchecked((int)0x80000000) : 0, 0).Eax;
        return (uint)leaf <= (uint)highest && (leaf < 0) == (highest < 0);
    }

    /// <summary>"32768K", "2M" or "512" (bytes) as bytes; 0 when it is none of these.</summary>
    internal static long ParseSize(string text)
    {
        long unit = text.EndsWith('K') ? 1L << 10 : text.EndsWith('M') ? 1L << 20 : 1;
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value * unit : 0;
    }
}
