using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// One batch norm operation without a reduction (inference forward): prepare (per channel: the
/// apply coefficients), then apply (element-wise over the data). <see cref="PassDriver"/> runs it.
/// </summary>
internal unsafe interface IBatchNormPass
{
    /// <summary>Every channel, before the data: the reduction's centers and any coefficient known up front.</summary>
    void Prepare(in Scratch scratch);

    /// <summary>The element-wise output (y or dx), whose alignment the coefficient table follows (<see cref="Scratch.Coefficients"/>).</summary>
    float* Output { get; }

    /// <summary>How many tensors of the data's size the pass reads (x; x and dy; x, dy and the forward's y): with its output, the call's data (<see cref="StreamingPolicy"/>).</summary>
    int InputTensors { get; }

    /// <summary>Element-wise over a run starting at offset; <paramref name="streaming"/> stores the output non-temporally.</summary>
    void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail;
}

/// <summary>
/// A batch norm operation with two per-channel sums over the data between prepare and apply
/// (training forward, both backwards): reduce, then finalize each channel from its combined sums
/// (its outputs and the apply coefficients).
/// </summary>
internal unsafe interface IReducingPass : IBatchNormPass
{
    /// <summary>Channels-first: adds the two sums over a run of channel c's values at x[offset .. offset+length).</summary>
    void ReduceRun<TV, TW>(nint offset, nint length, double center, ref double first, ref double second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>;

    /// <summary>
    /// Channels-last rows reduced per accumulator load and store: more rows amortize the loads and
    /// stores, fewer keep a block's rows of every input in L1 while the block's vector columns are walked.
    /// </summary>
    int RowBlock { get; }

    /// <summary>Channels-last: adds consecutive rows (C channels each, from offset) into the per-channel sums, in the given walk.</summary>
    void ReduceRows<TV, TW>(nint offset, int rows, double* centers, double* first, double* second, RowsWalk walk)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>;

    /// <summary>Per channel, from its combined sums: writes the channel's outputs and apply coefficients.</summary>
    void Finalize(int c, double first, double second, in Scratch scratch);

    /// <summary>
    /// <see cref="Finalize"/> for channels [c0, c0 + count), the sums of channel c0 + j at first[j]
    /// and second[j]; a pass may do it a vector of channels at a time, bit for bit the same.
    /// </summary>
    void FinalizeBlock(int c0, int count, double* first, double* second, in Scratch scratch);
}

/// <summary>A pass whose preparation needs each channel's 1/sqrt(running variance + eps) (<see cref="ChannelParameters.PrepareWithInvStd"/>).</summary>
internal interface IInvStdPreparation
{
    /// <summary>Prepares channel c, given its inverse standard deviation in double.</summary>
    void Prepare(int c, double invStd, in Scratch scratch);
}
