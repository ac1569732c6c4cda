namespace BatchNorm;

/// <summary>
/// The format a kernel stores its data tensors in (x, y, dy, dx and forwardY). Per-channel tensors
/// (gamma, beta, the statistics, dgamma, dbeta) stay float32, as in PyTorch's and oneDNN's
/// mixed-precision batch norms. The spans stay float: a reduced-precision kernel reads values that
/// are exactly representable in its format and must write values that are.
/// </summary>
public enum DataPrecision
{
    /// <summary>IEEE binary32: 24 significant bits.</summary>
    Float32,

    /// <summary>bfloat16: float32's exponent range, 8 significant bits (unit roundoff 2^-8).</summary>
    BFloat16,

    /// <summary>IEEE binary16: 11 significant bits (unit roundoff 2^-11), largest finite 65504, subnormals down to 2^-24.</summary>
    Float16,
}

/// <summary>Rounding to a <see cref="DataPrecision"/>, and the gaps between the format's values.</summary>
public static class DataPrecisions
{
    /// <summary>
    /// <paramref name="value"/> rounded to the nearest value of the format, ties to even (IEEE's
    /// default), overflowing to infinity; NaN stays NaN (quiet); the sign of a zero is kept.
    /// </summary>
    public static float Round(float value, DataPrecision precision) => precision switch
    {
        DataPrecision.Float32 => value,
        DataPrecision.BFloat16 => RoundToBFloat16(value),
        DataPrecision.Float16 => (float)(Half)value,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "not a data precision"),
    };

    /// <summary>Rounds every value in place, as <see cref="Round(float, DataPrecision)"/> does (nothing to do in float32; an empty span is left as it is).</summary>
    public static void RoundAll(Span<float> values, DataPrecision precision)
    {
        if (precision == DataPrecision.Float32)
            return;
        foreach (ref float v in values)
            v = Round(v, precision);
    }

    /// <summary>True when <paramref name="value"/> is a value of the format (NaN and the infinities are).</summary>
    public static bool Holds(float value, DataPrecision precision) =>
        float.IsNaN(value) || BitConverter.SingleToUInt32Bits(Round(value, precision)) == BitConverter.SingleToUInt32Bits(value);

    /// <summary>
    /// The wider of the two gaps between <paramref name="value"/> (a finite value of the format) and
    /// its neighbours in the format: a value rounded to nearest is within half of it of what was
    /// rounded. 0 for float32, whose rounding the error models already hold; NaN for NaN.
    /// </summary>
    public static double WidestGap(float value, DataPrecision precision) => precision switch
    {
        DataPrecision.Float32 => 0,
        DataPrecision.BFloat16 => BFloat16Gap(MathF.Abs(value)),
        DataPrecision.Float16 => Float16Gap(Half.Abs((Half)value)),
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "not a data precision"),
    };

    /// <summary>The short name of files, case names and flags: fp32, bf16, fp16.</summary>
    public static string ShortName(this DataPrecision precision) => precision switch
    {
        DataPrecision.Float32 => "fp32",
        DataPrecision.BFloat16 => "bf16",
        DataPrecision.Float16 => "fp16",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "not a data precision"),
    };

    /// <summary>The wider gap next to a bfloat16 magnitude: one step of its upper 16 bits up or down (up only at 0).</summary>
    private static double BFloat16Gap(float magnitude)
    {
        uint bits = BitConverter.SingleToUInt32Bits(magnitude);
        double up = BitConverter.UInt32BitsToSingle(bits + 0x1_0000u) - (double)magnitude;
        double down = bits == 0 ? up : magnitude - (double)BitConverter.UInt32BitsToSingle(bits - 0x1_0000u);
        return Math.Max(up, down);
    }

    /// <summary>The wider gap next to a float16 magnitude (up only at 0).</summary>
    private static double Float16Gap(Half magnitude)
    {
        double up = (double)Half.BitIncrement(magnitude) - (double)magnitude;
        double down = magnitude == Half.Zero ? up : (double)magnitude - (double)Half.BitDecrement(magnitude);
        return Math.Max(up, down);
    }

    /// <summary>Round to nearest even on the upper 16 bits; a NaN keeps its sign and top payload bits and is made quiet.</summary>
    private static float RoundToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return BitConverter.UInt32BitsToSingle((bits | 0x0040_0000u) & 0xFFFF_0000u);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF_0000u);
    }
}
