using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Kernels;

/// <summary>
/// The element-wise passes. Each is one generic step, run over full vectors and then over the
/// tail one lane at a time with the same step at the <see cref="Scalar"/> width: the tail is
/// handled here and nowhere else, and it gives bit for bit what a vector lane would.
/// No step reads or writes outside [0, n).
/// </summary>
internal static unsafe class Elementwise
{
    /// <summary>
    /// y = ((x - hi) - lo) * a + b, coefficients (hi, lo, a, b). The mean is the float pair
    /// hi + lo, so x - mean is formed to within a rounding of its own size even when the mean
    /// dwarfs the spread; the multiply-add rounds once.
    /// </summary>
    public static void Normalize<TV, TC>(float* x, float* y, nint n, in TC coefficients)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
    {
        nint i = 0;
        for (; i <= n - TV.Count; i += TV.Count)
            NormalizeStep<TV, TC>(x, y, i, coefficients);
        for (; i < n; i++)
            NormalizeStep<Scalar, TC>(x, y, i, coefficients);
    }

    /// <summary>
    /// Training-mode dx = ((dy - mdy) * k1) + (x - mean) * k2, coefficients (mean, mdy, k1, k2)
    /// with mdy = mean(dy), k1 = gamma*istd, k2 = -k1*istd*dgamma/M. Written this way, M = 1
    /// (dy = mdy, x = mean) and a constant channel (x = mean) give their exact results.
    /// </summary>
    public static void TrainingInputGradient<TV, TC>(float* x, float* dy, float* dx, nint n, in TC coefficients)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
    {
        nint i = 0;
        for (; i <= n - TV.Count; i += TV.Count)
            TrainingInputGradientStep<TV, TC>(x, dy, dx, i, coefficients);
        for (; i < n; i++)
            TrainingInputGradientStep<Scalar, TC>(x, dy, dx, i, coefficients);
    }

    /// <summary>Inference-mode dx = dy * k1, coefficient k1 = gamma*istd at index 0.</summary>
    public static void Scale<TV, TC>(float* dy, float* dx, nint n, in TC coefficients)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
    {
        nint i = 0;
        for (; i <= n - TV.Count; i += TV.Count)
            TV.Store(dx + i, TV.Multiply(TV.Load(dy + i), coefficients.Get<TV>(0, i)));
        for (; i < n; i++)
            Scalar.Store(dx + i, Scalar.Multiply(Scalar.Load(dy + i), coefficients.Get<Scalar>(0, i)));
    }

    private static void NormalizeStep<TV, TC>(float* x, float* y, nint i, in TC c)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
    {
        TV centered = TV.Subtract(TV.Subtract(TV.Load(x + i), c.Get<TV>(0, i)), c.Get<TV>(1, i));
        TV.Store(y + i, TV.MultiplyAdd(centered, c.Get<TV>(2, i), c.Get<TV>(3, i)));
    }

    private static void TrainingInputGradientStep<TV, TC>(float* x, float* dy, float* dx, nint i, in TC c)
        where TV : struct, IFloatVector<TV>
        where TC : struct, ICoefficients
    {
        TV centered = TV.Subtract(TV.Load(x + i), c.Get<TV>(0, i));
        TV dyTerm = TV.Multiply(TV.Subtract(TV.Load(dy + i), c.Get<TV>(1, i)), c.Get<TV>(2, i));
        TV.Store(dx + i, TV.MultiplyAdd(centered, c.Get<TV>(3, i), dyTerm));
    }
}
