using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Loops;

/// <summary>
/// Where an element-wise kernel finds its per-channel coefficients. In channels-first a run lies in
/// one channel, so each coefficient is one value broadcast; in channels-last a run is whole rows of
/// C channels, so element i belongs to channel i mod C, its phase, which the element-wise driver
/// keeps as it walks the run (a division per vector costs more than the vector's arithmetic).
/// </summary>
internal interface ICoefficients
{
    /// <summary>After how many elements the coefficients repeat: C for rows, 0 when every element has the same ones.</summary>
    nint Period { get; }

    /// <summary>Coefficient k for the TV.Count elements starting at the one whose phase (offset mod <see cref="Period"/>) is given.</summary>
    TV Get<TV>(int k, nint phase) where TV : struct, IFloatVector<TV>;
}

/// <summary>Channels-first: the run is in one channel; four values, broadcast.</summary>
internal readonly struct UniformCoefficients(float c0, float c1, float c2, float c3) : ICoefficients
{
    public nint Period => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Get<TV>(int k, nint phase) where TV : struct, IFloatVector<TV> =>
        TV.Broadcast(k switch { 0 => c0, 1 => c1, 2 => c2, _ => c3 });
}

/// <summary>
/// Channels-last: the run is whole rows of C channels, so element i belongs to channel i mod C.
/// Coefficient k of channel c is at table[k*stride + c], and each array is followed by a
/// wrap-around copy (table[k*stride + C + m] = table[k*stride + m mod C] for m below
/// <see cref="Passes.Scratch.Wrap"/>), so a vector starting at any phase below C loads its lanes'
/// coefficients in one load, whatever C is. The four arrays' starts are kept as pointers, so the
/// loop's address of a coefficient is one add, not a multiply by the stride per load.
/// </summary>
internal readonly unsafe struct PeriodicCoefficients(float* table, nint channels, nint stride) : ICoefficients
{
    private readonly float* k0 = table;
    private readonly float* k1 = table + stride;
    private readonly float* k2 = table + (2 * stride);
    private readonly float* k3 = table + (3 * stride);

    public nint Period => channels;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Get<TV>(int k, nint phase) where TV : struct, IFloatVector<TV> =>
        TV.Load((k switch { 0 => k0, 1 => k1, 2 => k2, _ => k3 }) + phase);
}
