using System.Runtime.CompilerServices;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// The O(C) working memory of one call: per-channel reduction centers (double), the partial sums
/// of every chunk (double, two sets), and the apply coefficients (float, four per channel, stored
/// as four arrays of C plus a wrap-around copy, so a channels-last run loads them as vectors,
/// placed as the output is, <see cref="Coefficients"/>).
/// </summary>
internal readonly unsafe struct Scratch(double* centers, double* firstPartials, double* secondPartials, float* table, int c)
{
    /// <summary>Wrap-around floats after each coefficient array: one 512-bit vector.</summary>
    public const int Wrap = 16;

    /// <summary>The table's alignment in floats: one 512-bit vector (64 bytes).</summary>
    public const int Alignment = 16;

    /// <summary>Floats from one coefficient array to the next: C plus the wrap, rounded up to <see cref="Alignment"/> so every array starts at the same offset from a 64-byte boundary.</summary>
    public static int Stride(int c) => (c + Wrap + Alignment - 1) / Alignment * Alignment;

    /// <summary>Floats to rent for the table: four arrays, room to align the first and room to skew them.</summary>
    public static int TableFloats(int c) => (4 * Stride(c)) + (2 * Alignment) - 1;

    /// <summary>
    /// Where the coefficient arrays start in a rented block: at a 64-byte boundary plus the skew
    /// of <paramref name="output"/>, its offset in floats from the boundary before it. A channels-last
    /// run aligns its output stores (<see cref="Loops.Elementwise.MinAlignedRun"/>); with C a multiple
    /// of 16 every row starts at the same offset, so the coefficient loads beside those stores are
    /// then aligned too, and unaligned loads cost 1.6 times as much there (0.61 against 0.38 ms a
    /// thread on 64x256x14x14 channels-last inference).
    /// </summary>
    public static float* Coefficients(float* rented, float* output)
    {
        const nuint bytes = Alignment * sizeof(float);
        float* aligned = (float*)(((nuint)rented + bytes - 1) & ~(bytes - 1));
        return aligned + (((nuint)output & (bytes - 1)) / sizeof(float));
    }

    public readonly double* Centers = centers;
    public readonly double* FirstPartials = firstPartials;
    public readonly double* SecondPartials = secondPartials;

    /// <summary>The first coefficient array (coefficient 0 of channel 0); array k starts <see cref="TableStride"/> floats further per k.</summary>
    public readonly float* Table = table;
    public readonly int C = c;

    /// <summary><see cref="Stride(int)"/> of <see cref="C"/>, computed once.</summary>
    public readonly nint TableStride = Stride(c);

    /// <summary>Sets apply coefficient k of channel c; <see cref="CompleteWrap"/> copies it into the wrap-around once every channel is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetCoefficient(int k, int c, float value) => Table[(k * TableStride) + c] = value;

    /// <summary>Fills each coefficient array's wrap-around copy (table[k*stride + C + m] = table[k*stride + m mod C], m below <see cref="Wrap"/>): after the last channel is set, before a channels-last apply reads the table.</summary>
    public void CompleteWrap()
    {
        for (int k = 0; k < 4; k++)
        {
            float* row = Table + (k * TableStride);
            for (int m = 0; m < Wrap; m++)
                row[C + m] = row[m % C];
        }
    }

    /// <summary>Coefficient k of channel c.</summary>
    public float Coefficient(int k, int c) => Table[(k * TableStride) + c];
}
