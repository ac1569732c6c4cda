using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>The fused-ReLU backward's first step: dx = 0 where the forward's y ≤ 0, else dy (<see cref="ReluGradientOperation"/>).</summary>
internal readonly unsafe struct ReluGradientPass(float* dy, float* forwardY, float* dx) : IBatchNormPass
{
    public void Prepare(in Scratch scratch)
    {
    }

    public void ApplyRun<TV, TC, TTail>(nint offset, nint length, in TC coefficients, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail =>
        Elementwise.Run<TV, ReluGradientOperation, TTail>(length, new ReluGradientOperation(dy + offset, forwardY + offset, dx + offset), streaming);
}
