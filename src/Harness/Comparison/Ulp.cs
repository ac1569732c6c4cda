namespace BatchNorm.Harness.Comparison;

/// <summary>Distances between float32 values in units in the last place.</summary>
internal static class Ulp
{
    /// <summary>
    /// How many floats lie between a and b (0 when equal; +0 and -0 are equal). Both must be
    /// finite or infinite; NaN gives long.MaxValue.
    /// </summary>
    public static long Distance(float a, float b)
    {
        if (float.IsNaN(a) || float.IsNaN(b))
            return long.MaxValue;
        return Math.Abs(Key(a) - Key(b));
    }

    /// <summary>The float's position on one line of all floats: -0 and +0 share 0.</summary>
    private static long Key(float value)
    {
        int bits = BitConverter.SingleToInt32Bits(value);
        // Stryker disable once Equality : equivalent, the mirrored key (int.MinValue - key) keeps every distance.
        return bits >= 0 ? bits : (long)int.MinValue - bits;
    }
}
