using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BatchNorm.Optimized;

/// <summary>
/// Keeps a fork-join helper off its caller's CPU (Linux only). When a caller wakes a sleeping helper,
/// the scheduler may queue the helper on the caller's own CPU; there it waits behind the caller, which
/// meanwhile runs every task itself, so a two-thread call takes one-thread time, sometimes for several
/// millisecond-long calls in a row (docs/performance.md: a 12.8 MB inference after an idle pause took
/// 2.1-2.2 ms this way, 1.0 ms with this placement). A helper that finds itself on its caller's CPU
/// narrows its own affinity to the CPUs it was allowed when it started, minus that one, and the kernel
/// moves it at once. It never widens beyond the CPUs it started with (so `taskset` and cpusets that
/// applied then are kept), never touches another thread, and does nothing when fewer than two CPUs were
/// allowed, on other systems, when libc's scheduler calls are missing, or when a call fails.
/// </summary>
internal sealed unsafe partial class HelperPlacement
{
    /// <summary>Words of a glibc cpu_set_t: 1024 CPUs. A machine with more makes sched_getaffinity fail, and placement is off.</summary>
    private const int MaskWords = 16;

    /// <summary>Linux, and libc's scheduler calls load (they may not under an unusual C library).</summary>
    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    /// <summary>The CPUs the helper was allowed when it started; null when placement is off.</summary>
    private readonly ulong[]? allowed;

    private HelperPlacement(ulong[]? allowed) => this.allowed = allowed;

    /// <summary>
    /// The placement for the calling thread, which must be the helper itself: records the CPUs it is allowed now.
    /// Disabled (does nothing) unless on Linux with at least two of them.
    /// </summary>
    public static HelperPlacement ForCurrentThread()
    {
        if (!Available)
            return new HelperPlacement(null);
        ulong[] allowed = new ulong[MaskWords];
        fixed (ulong* mask = allowed)
        {
            if (sched_getaffinity(0, MaskWords * sizeof(ulong), mask) != 0)
                return new HelperPlacement(null);
        }

        int count = 0;
        foreach (ulong word in allowed)
            count += System.Numerics.BitOperations.PopCount(word);
        return new HelperPlacement(count >= 2 ? allowed : null);
    }

    /// <summary>The CPU the calling thread runs on now, or -1 when unknown (not Linux, or the call failed). Costs a few nanoseconds (vDSO or rseq).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CurrentCpu() => Available ? sched_getcpu() : -1;

    /// <summary>
    /// Moves the calling helper off <paramref name="callerCpu"/> if it runs there now: its affinity becomes
    /// the CPUs it started with minus that one. Nothing happens when placement is disabled, the caller's CPU
    /// is unknown (-1) or outside the mask, or the helper already runs elsewhere.
    /// </summary>
    public void MoveOff(int callerCpu)
    {
        // Stryker disable once all : equivalent, where a helper runs changes when tasks finish, never what they compute.
        if (allowed is null || callerCpu < 0 || callerCpu >= MaskWords * 64 || sched_getcpu() != callerCpu)
            return;
        Span<ulong> mask = stackalloc ulong[MaskWords];
        allowed.CopyTo(mask);
        mask[callerCpu / 64] &= ~(1UL << (callerCpu % 64));
        if (mask.IndexOfAnyExcept(0UL) < 0)
            return;
        fixed (ulong* bits = mask)
        {
            // A failure (a cpuset that shrank meanwhile) leaves the helper where it is: slower, never wrong.
            _ = sched_setaffinity(0, MaskWords * sizeof(ulong), bits);
        }
    }

    private static bool Probe()
    {
        try
        {
            return sched_getcpu() >= 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", SetLastError = false)]
    [SuppressGCTransition]
    private static partial int sched_getcpu();

    [LibraryImport("libc", SetLastError = false)]
    private static partial int sched_getaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", SetLastError = false)]
    private static partial int sched_setaffinity(int pid, nuint size, ulong* mask);
}
