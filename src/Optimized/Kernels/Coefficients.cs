using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Kernels;

/// <summary>
/// Where an element-wise kernel finds its per-channel coefficients for the element at offset i of
/// a run. In channels-first a run lies in one channel, so each coefficient is one value broadcast;
/// in channels-last a run is one row of C channels, so coefficient k of element i is table[k][i].
/// </summary>
internal interface ICoefficients
{
    /// <summary>Coefficient k for the TV.Count elements starting at offset i of the run.</summary>
    TV Get<TV>(int k, nint i) where TV : struct, IFloatVector<TV>;
}

/// <summary>Channels-first: the run is in one channel; four values, broadcast.</summary>
internal readonly struct UniformCoefficients(float c0, float c1, float c2, float c3) : ICoefficients
{
    public TV Get<TV>(int k, nint i) where TV : struct, IFloatVector<TV> =>
        TV.Broadcast(k switch { 0 => c0, 1 => c1, 2 => c2, _ => c3 });
}

/// <summary>Channels-last: the run is a row of C channels; coefficient k of channel c at table[k*C + c].</summary>
internal readonly unsafe struct PerChannelCoefficients(float* table, nint channels) : ICoefficients
{
    public TV Get<TV>(int k, nint i) where TV : struct, IFloatVector<TV> => TV.Load(table + k * channels + i);
}
