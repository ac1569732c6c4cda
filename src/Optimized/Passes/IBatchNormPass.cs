using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// One batch norm operation, cut into the parts <see cref="PassDriver"/> schedules:
/// prepare (per channel, before any data is read), reduce (two per-channel sums over the data),
/// finalize (per channel, from the combined sums: outputs and the coefficients of the apply),
/// apply (element-wise over the data).
/// </summary>
internal unsafe interface IBatchNormPass
{
    /// <summary>False when the operation needs no per-channel sums (inference forward).</summary>
    bool HasReduction { get; }

    /// <summary>Per channel, before the data: the reduction's center and any coefficient known up front.</summary>
    void Prepare(int c, in Scratch scratch);

    /// <summary>Channels-first: adds the two sums over a run of channel c's values at x[offset .. offset+length).</summary>
    void ReduceRun<TV, TW>(nint offset, nint length, double center, ref double first, ref double second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>;

    /// <summary>Channels-last: adds consecutive rows (C channels each, from offset) into the per-channel sums.</summary>
    void ReduceRows<TV, TW>(nint offset, int rows, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>;

    /// <summary>Per channel, from its combined sums: writes the channel's outputs and apply coefficients.</summary>
    void Finalize(int c, double first, double second, in Scratch scratch);

    /// <summary>Element-wise over a run starting at offset; <paramref name="streaming"/> stores the output non-temporally.</summary>
    void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail;
}
