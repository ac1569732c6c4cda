using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Loops;

/// <summary>What <see cref="NormalizeOperation{TC, TA}"/> applies before it stores y: one type per <see cref="Activation"/>, so each compiles to its own loop.</summary>
internal interface IActivation
{
    static abstract TV Apply<TV>(TV value) where TV : struct, IFloatVector<TV>;
}

/// <summary>Plain batch norm: y as computed.</summary>
internal readonly struct NoActivation : IActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV value) where TV : struct, IFloatVector<TV> => value;
}

/// <summary>Fused ReLU: max(y, 0), NaN kept.</summary>
internal readonly struct ReluActivation : IActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV value) where TV : struct, IFloatVector<TV> => TV.MaxWithZero(value);
}

/// <summary>
/// ReLU's backward from the forward output, dx = 0 where y ≤ 0 else dy: the fused-ReLU backward
/// first writes this into dx, then runs the plain backward in place on it (one extra pass over
/// the data, so every plain loop serves both).
/// </summary>
internal readonly unsafe struct ReluGradientOperation(float* dy, float* forwardY, float* dx) : IElementwiseOperation
{
    public float* Output => dx;

    public nint Period => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Compute<TV>(nint i, nint phase) where TV : struct, IFloatVector<TV> => TV.ZeroWhereClamped(TV.Load(dy + i), TV.Load(forwardY + i));
}

/// <summary>The forward passes' apply step, with the options' activation chosen once per run.</summary>
internal static unsafe class Normalization
{
    /// <summary>y[0..length) from x[0..length) with <see cref="NormalizeOperation{TC, TA}"/>.</summary>
    public static void Run<TV, TC, TTail>(float* x, float* y, nint length, in TC coefficients, bool streaming, Activation activation)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail
    {
        if (activation == Activation.Relu)
            Elementwise.Run<TV, NormalizeOperation<TC, ReluActivation>, TTail>(length, new NormalizeOperation<TC, ReluActivation>(x, y, coefficients), streaming);
        else
            Elementwise.Run<TV, NormalizeOperation<TC, NoActivation>, TTail>(length, new NormalizeOperation<TC, NoActivation>(x, y, coefficients), streaming);
    }
}
