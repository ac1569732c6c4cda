using System.Diagnostics;
using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>Inference forward: y = (x - running mean) * (gamma * istd) + beta, no reduction.</summary>
internal readonly unsafe struct ForwardInferencePass(
    float* x, float* y, float* gamma, float* beta, float* runningMean, float* runningVariance, BatchNormOptions options) : IBatchNormPass
{
    private const string NoReduction = "inference forward has no reduction";

    public bool HasReduction => false;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Prepare(int c, in Scratch scratch)
    {
        double invStd = ChannelParameters.InvStd(runningVariance[c], options.Epsilon);
        scratch.SetCoefficient(NormalizeSlots.MeanHigh, c, runningMean[c]);
        scratch.SetCoefficient(NormalizeSlots.MeanLow, c, 0f);
        scratch.SetCoefficient(NormalizeSlots.Scale, c, (float)(ChannelParameters.At(gamma, c, 1.0) * invStd));
        scratch.SetCoefficient(NormalizeSlots.Shift, c, (float)ChannelParameters.At(beta, c, 0.0));
    }

    // The three reduction members are unreachable: HasReduction is false, so the driver never calls them.
    public void ReduceRun<TV, TW>(nint offset, nint length, double center, ref double first, ref double second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> => throw new UnreachableException(NoReduction);

    public void ReduceRows<TV, TW>(nint offset, int rows, double* centers, double* first, double* second)
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV> => throw new UnreachableException(NoReduction);

    public void Finalize(int c, double first, double second, in Scratch scratch) => throw new UnreachableException(NoReduction);

    public void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail =>
        Elementwise.Run<TV, NormalizeOperation<TC>, TTail>(length, new NormalizeOperation<TC>(x + offset, y + offset, coefficients), streaming);
}
