using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace BatchNorm.Optimized.Loops;

/// <summary>Software prefetch of the cache lines a run of floats occupies.</summary>
internal static unsafe class CacheLines
{
    /// <summary>Floats in a 64-byte cache line.</summary>
    public const int Floats = 16;

    /// <summary>
    /// Asks for the lines of p[0..count) in every cache level (count ≥ 1): one prefetch a line from
    /// p, and one for the last element, whose line an unaligned run reaches beyond. A hint: it never
    /// faults, so p may lie past a tensor's end. Where the ISA has no prefetch it does nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(float* p, int count)
    {
        if (!Sse.IsSupported)
            return;
        for (int k = 0; k < count; k += Floats)
            Sse.Prefetch0(p + k);
        Sse.Prefetch0(p + count - 1);
    }
}
