using System.Numerics;

namespace BatchNorm.Optimized.Passes;

/// <summary>The per-channel values every pass reads the same way.</summary>
internal static unsafe class ChannelParameters
{
    /// <summary>values[c], or <paramref name="absent"/> when the tensor is absent (gamma 1, beta 0).</summary>
    public static double At(float* values, int c, double absent) => values == null ? absent : values[c];

    /// <summary>1/sqrt(variance + eps) in double, from a float variance (exact inputs: one rounding each for the add, sqrt and divide).</summary>
    public static double InvStd(float variance, double epsilon) => 1.0 / Math.Sqrt(variance + epsilon);

    /// <summary>
    /// Calls <paramref name="pass"/> for channels 0..C-1 with each one's <see cref="InvStd"/>, computed a
    /// vector of channels at a time (the square root and division are most of a channel's cost; they
    /// round correctly in every lane, so each is bit for bit the scalar value).
    /// </summary>
    public static void PrepareWithInvStd<TP>(in TP pass, float* variance, double epsilon, in Scratch scratch)
        where TP : struct, IInvStdPreparation
    {
        int c = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var eps = new Vector<double>(epsilon);
            Span<double> lanes = stackalloc double[Vector<double>.Count];
            for (; c <= scratch.C - Vector<double>.Count; c += Vector<double>.Count)
            {
                for (int lane = 0; lane < lanes.Length; lane++)
                    lanes[lane] = variance[c + lane];
                var invStd = Vector<double>.One / Vector.SquareRoot(new Vector<double>(lanes) + eps);
                for (int lane = 0; lane < lanes.Length; lane++)
                    pass.Prepare(c + lane, invStd[lane], scratch);
            }
        }

        for (; c < scratch.C; c++)
            pass.Prepare(c, InvStd(variance[c], epsilon), scratch);
    }
}
