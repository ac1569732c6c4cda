namespace BatchNorm.Optimized.Passes;

/// <summary>The per-channel values every pass reads the same way.</summary>
internal static unsafe class ChannelParameters
{
    /// <summary>values[c], or <paramref name="absent"/> when the tensor is absent (gamma 1, beta 0).</summary>
    public static double At(float* values, int c, double absent) => values == null ? absent : values[c];

    /// <summary>1/sqrt(variance + eps) in double, from a float variance (exact inputs: one rounding each for the add, sqrt and divide).</summary>
    public static double InvStd(float variance, double epsilon) => 1.0 / Math.Sqrt(variance + epsilon);
}
