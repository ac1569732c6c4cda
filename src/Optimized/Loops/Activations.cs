using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Loops;

/// <summary>What <see cref="NormalizeOperation{TC, TA, TM}"/> applies before it stores y: one type per <see cref="Activation"/>, so each compiles to its own loop.</summary>
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
/// Where a backward pass reads dy: one type per kind, so each compiles to its own loops. Plain batch
/// norm reads the tensor; a fused ReLU's backward reads it gated by the forward's y, in the same
/// loads the reductions and the apply make (no pass of its own).
/// </summary>
internal interface IGradientSource<TSelf> where TSelf : struct, IGradientSource<TSelf>
{
    /// <summary>How many tensors it reads.</summary>
    static abstract int Tensors { get; }

    /// <summary>The same source, starting <paramref name="offset"/> elements further on.</summary>
    TSelf At(nint offset);

    /// <summary>The TV.Count gradients starting at element i.</summary>
    TV Load<TV>(nint i) where TV : struct, IFloatVector<TV>;

    /// <summary>Prefetches the lines of the <paramref name="count"/> gradients starting at element i (every tensor it reads).</summary>
    void Prefetch(nint i, int count);
}

/// <summary>dy as it is.</summary>
internal readonly unsafe struct Ungated(float* dy) : IGradientSource<Ungated>
{
    public static int Tensors => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Ungated At(nint offset) => new(dy + offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Load<TV>(nint i) where TV : struct, IFloatVector<TV> => TV.Load(dy + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(nint i, int count) => CacheLines.Prefetch(dy + i, count);
}

/// <summary>ReLU's backward from the forward output: 0 where y ≤ 0, else dy (a NaN y passes dy). Exact: it only selects.</summary>
internal readonly unsafe struct ReluGated(float* dy, float* forwardY) : IGradientSource<ReluGated>
{
    public static int Tensors => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReluGated At(nint offset) => new(dy + offset, forwardY + offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Load<TV>(nint i) where TV : struct, IFloatVector<TV> => TV.ZeroWhereClamped(TV.Load(dy + i), TV.Load(forwardY + i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(nint i, int count)
    {
        CacheLines.Prefetch(dy + i, count);
        CacheLines.Prefetch(forwardY + i, count);
    }
}

/// <summary>The forward passes' apply step, with the options' activation chosen once per run.</summary>
internal static unsafe class Normalization
{
    /// <summary>y[0..length) from x[0..length) with <see cref="NormalizeOperation{TC, TA, TM}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TV, TC, TTail, TM>(float* x, float* y, nint length, in TC coefficients, bool streaming, Activation activation)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
        where TTail : struct, IElementwiseTail
        where TM : struct, IMeanForm
    {
        if (activation == Activation.Relu)
            Elementwise.Run<TV, NormalizeOperation<TC, ReluActivation, TM>, TTail>(length, new NormalizeOperation<TC, ReluActivation, TM>(x, y, coefficients), streaming);
        else
            Elementwise.Run<TV, NormalizeOperation<TC, NoActivation, TM>, TTail>(length, new NormalizeOperation<TC, NoActivation, TM>(x, y, coefficients), streaming);
    }
}
