using System.Runtime.InteropServices;

namespace BatchNorm.Tests.Unit;

/// <summary>The test's own view of Linux CPU placement (independent of the kernel's HelperPlacement, which it checks).</summary>
internal static partial class LinuxAffinity
{
    private const int MaskWords = 16;

    /// <summary>The CPUs the calling thread may run on.</summary>
    public static int[] Allowed()
    {
        ulong[] mask = new ulong[MaskWords];
        if (sched_getaffinity(0, MaskWords * sizeof(ulong), mask) != 0)
            throw new InvalidOperationException($"sched_getaffinity failed: errno {Marshal.GetLastPInvokeError()}");
        return [.. Enumerable.Range(0, MaskWords * 64).Where(cpu => (mask[cpu / 64] & (1UL << (cpu % 64))) != 0)];
    }

    /// <summary>Restricts the calling thread to <paramref name="cpus"/>; the kernel moves it before returning.</summary>
    public static void Restrict(IEnumerable<int> cpus)
    {
        ulong[] mask = new ulong[MaskWords];
        foreach (int cpu in cpus)
            mask[cpu / 64] |= 1UL << (cpu % 64);
        if (sched_setaffinity(0, MaskWords * sizeof(ulong), mask) != 0)
            throw new InvalidOperationException($"sched_setaffinity failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public static int CurrentCpu() => sched_getcpu();

    [LibraryImport("libc")]
    private static partial int sched_getcpu();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_getaffinity(int pid, nuint size, [Out] ulong[] mask);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nuint size, ulong[] mask);
}
