using System.Runtime.Intrinsics;

namespace BatchNorm.Optimized;

/// <summary>The SIMD width a kernel runs at.</summary>
internal enum VectorWidth
{
    /// <summary>The widest width the hardware accelerates.</summary>
    Auto = 0,

    /// <summary>One float at a time, no SIMD.</summary>
    Scalar = 32,

    /// <summary>Vector128: 4 floats.</summary>
    Bits128 = 128,

    /// <summary>Vector256: 8 floats.</summary>
    Bits256 = 256,

    /// <summary>Vector512: 16 floats.</summary>
    Bits512 = 512,
}

/// <summary>Which widths this process can run.</summary>
internal static class VectorWidths
{
    /// <summary>The widest accelerated width: what <see cref="VectorWidth.Auto"/> resolves to.</summary>
    /// <remarks>
    /// Below the first branch this is reachable only without AVX-512; CI's restricted-ISA runs check the
    /// choice there (<c>bnverify verify --expect-width</c>), which mutation testing does not run.
    /// </remarks>
    public static VectorWidth Widest
    {
        get
        {
            if (Vector512.IsHardwareAccelerated)
                return VectorWidth.Bits512;

            // Stryker disable once all : reachable only without AVX-512 (see remarks).
            if (Vector256.IsHardwareAccelerated)
                return VectorWidth.Bits256;

            // Stryker disable once all : reachable only without AVX2 (see remarks).
            return Vector128.IsHardwareAccelerated ? VectorWidth.Bits128 : VectorWidth.Scalar;
        }
    }

    /// <summary>Every width this process accelerates, scalar included, narrowest first.</summary>
    public static IReadOnlyList<VectorWidth> Supported { get; } =
        new[] { VectorWidth.Scalar, VectorWidth.Bits128, VectorWidth.Bits256, VectorWidth.Bits512 }.Where(IsSupported).ToArray();

    /// <summary>True when the width runs in hardware here (Scalar and Auto always do).</summary>
    public static bool IsSupported(VectorWidth width) => width switch
    {
        VectorWidth.Auto or VectorWidth.Scalar => true,
        VectorWidth.Bits128 => Vector128.IsHardwareAccelerated,
        VectorWidth.Bits256 => Vector256.IsHardwareAccelerated,
        VectorWidth.Bits512 => Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>Lanes of float per vector: 1, 4, 8 or 16.</summary>
    public static int FloatLanes(VectorWidth width) => width switch
    {
        VectorWidth.Auto => FloatLanes(Widest),
        VectorWidth.Scalar => 1,
        VectorWidth.Bits128 or VectorWidth.Bits256 or VectorWidth.Bits512 => (int)width / 32,
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "not a vector width"),
    };
}
