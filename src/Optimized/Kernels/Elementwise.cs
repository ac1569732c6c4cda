using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Kernels;

/// <summary>An element-wise operation: the value of output element i, at any width.</summary>
internal unsafe interface IElementwiseOperation
{
    /// <summary>Where the results go.</summary>
    float* Output { get; }

    /// <summary>The TV.Count results starting at offset i.</summary>
    TV Compute<TV>(nint i) where TV : struct, IFloatVector<TV>;
}

/// <summary>
/// The one driver of every element-wise pass: full vectors, then the tail one lane at a time with
/// the same operation at the <see cref="Scalar"/> width (so a tail element gets bit for bit what a
/// vector lane would). With <c>streaming</c>, the output's unaligned head is done lane by lane and
/// the body is stored non-temporally. No operation reads or writes outside [0, n).
/// </summary>
internal static unsafe class Elementwise
{
    /// <summary>
    /// Shorter runs are stored normally even when streaming: non-temporal stores pay off only
    /// over many whole cache lines, and short runs would leave partial lines in the write-combining buffers.
    /// </summary>
    public const int MinStreamingRun = 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TV, TOp>(nint n, in TOp op, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TOp : struct, IElementwiseOperation
    {
        float* output = op.Output;
        nint i = 0;
        // Stryker disable once all : equivalent, which stores are non-temporal changes speed only; both kinds store the same bits.
        bool streamHere = streaming && TV.Count > 1 && n >= MinStreamingRun;
        if (streamHere)
        {
            nuint alignment = (nuint)(TV.Count * sizeof(float)) - 1;
            for (; i < n && ((nuint)(output + i) & alignment) != 0; i++)
                Scalar.Store(output + i, op.Compute<Scalar>(i));
            for (; i <= n - TV.Count; i += TV.Count)
                TV.StoreNonTemporal(output + i, op.Compute<TV>(i));
        }

        for (; i <= n - TV.Count; i += TV.Count)
            TV.Store(output + i, op.Compute<TV>(i));
        for (; i < n; i++)
            Scalar.Store(output + i, op.Compute<Scalar>(i));
    }
}

/// <summary>
/// y = ((x - hi) - lo) * a + b, coefficients (hi, lo, a, b). The mean is the float pair hi + lo,
/// so x - mean is formed to within a rounding of its own size even when the mean dwarfs the
/// spread; the multiply-add rounds once.
/// </summary>
internal readonly unsafe struct NormalizeOperation<TC>(float* x, float* y, TC coefficients) : IElementwiseOperation
    where TC : struct, ICoefficients
{
    public float* Output => y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public TV Compute<TV>(nint i) where TV : struct, IFloatVector<TV>
    {
        TV centered = TV.Subtract(TV.Subtract(TV.Load(x + i), coefficients.Get<TV>(0, i)), coefficients.Get<TV>(1, i));
        return TV.MultiplyAdd(centered, coefficients.Get<TV>(2, i), coefficients.Get<TV>(3, i));
    }
}

/// <summary>
/// Training-mode dx = (dy - mdy) * k1 + (x - mean) * k2, coefficients (mean, mdy, k1, k2) with
/// mdy = mean(dy), k1 = gamma*istd, k2 = -k1*istd*dgamma/M. Written this way, M = 1 (dy = mdy,
/// x = mean) and a constant channel (x = mean) give their exact results.
/// </summary>
internal readonly unsafe struct TrainingInputGradientOperation<TC>(float* x, float* dy, float* dx, TC coefficients) : IElementwiseOperation
    where TC : struct, ICoefficients
{
    public float* Output => dx;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public TV Compute<TV>(nint i) where TV : struct, IFloatVector<TV>
    {
        TV centered = TV.Subtract(TV.Load(x + i), coefficients.Get<TV>(0, i));
        TV dyTerm = TV.Multiply(TV.Subtract(TV.Load(dy + i), coefficients.Get<TV>(1, i)), coefficients.Get<TV>(2, i));
        return TV.MultiplyAdd(centered, coefficients.Get<TV>(3, i), dyTerm);
    }
}

/// <summary>Inference-mode dx = dy * k1, coefficient k1 = gamma*istd at index 0.</summary>
internal readonly unsafe struct ScaleOperation<TC>(float* dy, float* dx, TC coefficients) : IElementwiseOperation
    where TC : struct, ICoefficients
{
    public float* Output => dx;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public TV Compute<TV>(nint i) where TV : struct, IFloatVector<TV> =>
        TV.Multiply(TV.Load(dy + i), coefficients.Get<TV>(0, i));
}
