using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>Inference forward: y = activation((x - running mean) * (gamma * istd) + beta), no reduction; the running mean is a float, so its apply has no low part (<see cref="MeanFloat"/>).</summary>
internal readonly unsafe struct ForwardInferencePass(
    float* x, float* y, float* gamma, float* beta, float* runningMean, float* runningVariance, BatchNormOptions options) : IBatchNormPass, IInvStdPreparation
{
    public float* Output => y;

    public int InputTensors => 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Prepare(in Scratch scratch) => ChannelParameters.PrepareWithInvStd(this, runningVariance, options.Epsilon, scratch);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prepare(int c, double invStd, in Scratch scratch)
    {
        scratch.SetCoefficient(NormalizeSlots.MeanHigh, c, runningMean[c]);
        // Its apply (MeanFloat) never reads the low part; written anyway, so no slot of the table
        // holds what the pool's array held before.
        scratch.SetCoefficient(NormalizeSlots.MeanLow, c, 0f);
        scratch.SetCoefficient(NormalizeSlots.Scale, c, (float)(ChannelParameters.At(gamma, c, 1.0) * invStd));
        scratch.SetCoefficient(NormalizeSlots.Shift, c, (float)ChannelParameters.At(beta, c, 0.0));
    }

    public void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail =>
        Normalization.Run<TV, TC, TTail, MeanFloat>(x + offset, y + offset, length, coefficients, streaming, options.Activation);
}
