namespace BatchNorm.Optimized.Passes;

/// <summary>
/// The O(C) working memory of one call: per-channel reduction centers (double), the partial sums
/// of every chunk (double, two sets), and the apply coefficients (float, four per channel, stored
/// as four arrays of C plus a wrap-around copy, so a channels-last run loads them as vectors).
/// </summary>
internal readonly unsafe struct Scratch(double* centers, double* firstPartials, double* secondPartials, float* table, int c)
{
    /// <summary>Wrap-around floats after each coefficient array: one 512-bit vector.</summary>
    public const int Wrap = 16;

    /// <summary>Floats from one coefficient array to the next.</summary>
    public static int Stride(int c) => c + Wrap;

    public readonly double* Centers = centers;
    public readonly double* FirstPartials = firstPartials;
    public readonly double* SecondPartials = secondPartials;
    public readonly float* Table = table;
    public readonly int C = c;

    /// <summary>Sets apply coefficient k of channel c (and its wrap-around copies).</summary>
    public void SetCoefficient(int k, int c, float value)
    {
        float* row = Table + ((nint)k * Stride(C));
        for (int at = c; at < C + Wrap; at += C)
            row[at] = value;
    }

    /// <summary>Coefficient k of channel c.</summary>
    public float Coefficient(int k, int c) => Table[((nint)k * Stride(C)) + c];
}
