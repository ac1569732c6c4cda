namespace BatchNorm.Harness.Cases;

/// <summary>How a case's x is drawn.</summary>
internal enum ValueFamily
{
    /// <summary>offset + spread * N(0, 1).</summary>
    Normal,

    /// <summary>offset + spread * U(-1, 1).</summary>
    Uniform,

    /// <summary>
    /// Exact by construction (benchdnn's fill): pairs offset ± k·2^-8 with small integers k, so every
    /// value, sum and square is exact and mean and variance are floats; M must be a power of two.
    /// </summary>
    ExactPairs,

    /// <summary>Per channel its own scale, 10^(-3..3), times N(0, 1) around offset.</summary>
    MixedScales,

    /// <summary>Tiny values: spread 1e-38 around 0, with every eighth value subnormal (~1e-41).</summary>
    Subnormal,
}

/// <summary>A planted feature of one channel.</summary>
internal enum ChannelFeature
{
    /// <summary>Nothing planted.</summary>
    None,

    /// <summary>One NaN in channel 1 (channel 0 when C = 1).</summary>
    NaN,

    /// <summary>One +infinity in channel 1 (channel 0 when C = 1).</summary>
    Infinity,

    /// <summary>Channel 0 holds one value repeated: zero variance.</summary>
    Constant,
}

/// <summary>How gamma is drawn.</summary>
internal enum GammaKind
{
    /// <summary>U(0.5, 1.5).</summary>
    Random,

    /// <summary>No gamma span (scale 1).</summary>
    Absent,

    /// <summary>All zero.</summary>
    Zero,

    /// <summary>U(-1.5, -0.5).</summary>
    Negative,
}

/// <summary>The names case files write for the value families, channel features and gamma kinds.</summary>
internal static class ValueFamilyNames
{
    public static string Name(this ValueFamily values) => values switch
    {
        ValueFamily.Normal => "normal",
        ValueFamily.Uniform => "uniform",
        ValueFamily.ExactPairs => "exact-pairs",
        ValueFamily.MixedScales => "mixed-scales",
        ValueFamily.Subnormal => "subnormal",
        _ => throw new ArgumentOutOfRangeException(nameof(values), values, "not a value family"),
    };

    public static string Name(this ChannelFeature feature) => feature switch
    {
        ChannelFeature.None => "none",
        ChannelFeature.NaN => "nan",
        ChannelFeature.Infinity => "infinity",
        ChannelFeature.Constant => "constant",
        _ => throw new ArgumentOutOfRangeException(nameof(feature), feature, "not a channel feature"),
    };

    public static string Name(this GammaKind gamma) => gamma switch
    {
        GammaKind.Random => "random",
        GammaKind.Absent => "absent",
        GammaKind.Zero => "zero",
        GammaKind.Negative => "negative",
        _ => throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "not a gamma kind"),
    };
}
