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
    /// Calls <paramref name="pass"/> for channels 0..C-1 with each one's <see cref="InvStd(double, double)"/>.
    /// The square roots and divisions (most of a channel's cost) run first for a block of channels,
    /// a vector at a time into a buffer, and only then the per-channel calls: interleaved, each
    /// vector's lanes waited on its square root and division, and C = 1024 took 6 us.
    /// </summary>
    public static void PrepareWithInvStd<TP>(in TP pass, float* variance, double epsilon, in Scratch scratch)
        where TP : struct, IInvStdPreparation
    {
        double* invStds = stackalloc double[PrepareBlock];
        for (int c0 = 0; c0 < scratch.C; c0 += PrepareBlock)
        {
            int count = Math.Min(PrepareBlock, scratch.C - c0);
            InvStds(variance + c0, epsilon, invStds, count);
            for (int j = 0; j < count; j++)
                pass.Prepare(c0 + j, invStds[j], scratch);
        }
    }

    /// <summary>Channels per block of <see cref="PrepareWithInvStd"/>.</summary>
    private const int PrepareBlock = 256;

    /// <summary>invStds[j] = <see cref="InvStd(double, double)"/>(variance[j], epsilon) for j below count, a vector at a time (float to double is exact, so each lane is the scalar value).</summary>
    private static void InvStds(float* variance, double epsilon, double* invStds, int count)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var eps = new Vector<double>(epsilon);
            for (; j <= count - Vector<float>.Count; j += Vector<float>.Count)
            {
                Vector.Widen(Vector.Load(variance + j), out Vector<double> low, out Vector<double> high);
                Vector.Store(InvStd(low, eps), invStds + j);
                Vector.Store(InvStd(high, eps), invStds + j + Vector<double>.Count);
            }
        }

        for (; j < count; j++)
            invStds[j] = InvStd(variance[j], epsilon);
    }
}
