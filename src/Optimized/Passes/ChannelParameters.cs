using System.Numerics;

namespace BatchNorm.Optimized.Passes;

/// <summary>The per-channel values every pass reads the same way.</summary>
internal static unsafe class ChannelParameters
{
    /// <summary>values[c], or <paramref name="absent"/> when the tensor is absent (gamma 1, beta 0).</summary>
    public static double At(float* values, int c, double absent) => values == null ? absent : values[c];

    /// <summary>1/sqrt(variance + eps) in double (one rounding each for the add, sqrt and divide; a float variance converts exactly).</summary>
    public static double InvStd(double variance, double epsilon) => 1.0 / Math.Sqrt(variance + epsilon);

    /// <summary>
    /// <see cref="InvStd(double, double)"/> lane by lane: the add, square root and division round
    /// correctly in every lane, so each lane is bit for bit the scalar value.
    /// </summary>
    public static Vector<double> InvStd(Vector<double> variance, Vector<double> epsilon) => Vector<double>.One / Vector.SquareRoot(variance + epsilon);

    /// <summary>For channels [c0, c0 + count), whose sums are first[j] and second[j] for channel c0 + j, calls the pass's per-channel finalize.</summary>
    public static void FinalizeEach<TP>(in TP pass, int c0, int count, double* first, double* second, in Scratch scratch)
        where TP : struct, IReducingPass
    {
        for (int j = 0; j < count; j++)
            pass.Finalize(c0 + j, first[j], second[j], scratch);
    }

    /// <summary>
    /// Calls <paramref name="pass"/> for channels 0..C-1 with each one's <see cref="InvStd(double, double)"/>, computed a
    /// vector of channels at a time (the square root and division are most of a channel's cost).
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
                var invStd = InvStd(new Vector<double>(lanes), eps);
                for (int lane = 0; lane < lanes.Length; lane++)
                    pass.Prepare(c + lane, invStd[lane], scratch);
            }
        }

        for (; c < scratch.C; c++)
            pass.Prepare(c, InvStd(variance[c], epsilon), scratch);
    }
}
