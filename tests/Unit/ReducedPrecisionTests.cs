using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// Kernels that store their data tensors in bfloat16 or float16: rounding to the formats against an
/// independent definition, the battery of each format, the optimized kernel passing it, and each
/// planted bfloat16 bug rejected.
/// </summary>
public class ReducedPrecisionTests
{
    public static TheoryData<DataPrecision> Reduced() => new([DataPrecision.BFloat16, DataPrecision.Float16]);

    [Theory]
    [MemberData(nameof(Reduced))]
    public void RoundingIsToTheNearestValueOfTheFormatTiesToEven(DataPrecision precision)
    {
        // Independent definition: the format's values next to v, by counting its steps (a bfloat16 is
        // float32's upper 16 bits; a float16 is reached through Half's own bit increments), and the
        // nearer of the two, an even last bit on a tie.
        var random = new Random(7);
        for (int k = 0; k < 200_000; k++)
        {
            float v = k < 8 ? Specials[k] : BitConverter.Int32BitsToSingle(random.Next()) * (random.Next(2) == 0 ? 1 : -1);
            if (precision == DataPrecision.Float16)
                v = (float)(v / Math.Pow(2, random.Next(0, 140)));
            if (!float.IsFinite(v) || (precision == DataPrecision.Float16 && Math.Abs(v) >= 65504))
                continue;
            var (below, above, belowEven) = Neighbours(v, precision);
            // Past the largest finite value, the next step is to 2^128, which rounds to infinity.
            double toBelow = Math.Abs((double)v - Finite(below)), toAbove = Math.Abs(Finite(above) - v);
            float expected = toBelow < toAbove || (toBelow == toAbove && belowEven) ? below : above;
            float actual = DataPrecisions.Round(v, precision);
            Assert.True(expected == actual, FormattableString.Invariant($"{precision} of {v:R}: expected {expected:R}, got {actual:R}"));
            Assert.True(DataPrecisions.Holds(actual, precision));
        }
    }

    private static double Finite(float value) => float.IsInfinity(value) ? Math.CopySign(Math.ScaleB(1, 128), value) : value;

    private static readonly float[] Specials = [1f, 1.00390625f, 1.005859375f, -3.1415927f, 1e-40f, -1e-40f, 6e-8f, 2.9802322e-8f];

    /// <summary>The format's values at and above and below v (below ≤ v ≤ above), and whether below's last significand bit is even.</summary>
    private static (float Below, float Above, bool BelowEven) Neighbours(float v, DataPrecision precision)
    {
        if (precision == DataPrecision.BFloat16)
        {
            uint magnitude = BitConverter.SingleToUInt32Bits(Math.Abs(v)) & 0xFFFF_0000u;
            float low = BitConverter.UInt32BitsToSingle(magnitude), high = BitConverter.UInt32BitsToSingle(magnitude + 0x1_0000u);
            bool lowEven = ((magnitude >> 16) & 1) == 0;
            return v >= 0 ? (low, high, lowEven) : (-high, -low, !lowEven);
        }

        // Walk Half values up from 0 until one is at least |v|.
        var h = Half.Zero;
        var step = (Half)Math.Abs(v);
        while ((float)step > Math.Abs(v))
            step = Half.BitDecrement(step);
        while ((float)Half.BitIncrement(step) <= Math.Abs(v))
            step = Half.BitIncrement(step);
        h = step;
        float lowH = (float)h, highH = lowH == Math.Abs(v) ? lowH : (float)Half.BitIncrement(h);
        bool even = (BitConverter.HalfToUInt16Bits(h) & 1) == 0;
        return v >= 0 ? (lowH, highH, even) : (-highH, -lowH, lowH == highH ? even : !even);
    }

    [Fact]
    public void SpecialValuesKeepTheirMeaning()
    {
        Assert.True(float.IsNaN(DataPrecisions.Round(float.NaN, DataPrecision.BFloat16)));
        Assert.True(float.IsNaN(DataPrecisions.Round(float.NaN, DataPrecision.Float16)));
        Assert.True(float.IsNegative(DataPrecisions.Round(-0f, DataPrecision.BFloat16)));
        Assert.Equal(float.PositiveInfinity, DataPrecisions.Round(float.MaxValue, DataPrecision.BFloat16));
        Assert.Equal(65504f, DataPrecisions.Round(65519f, DataPrecision.Float16));
        Assert.Equal(float.PositiveInfinity, DataPrecisions.Round(65520f, DataPrecision.Float16));
        Assert.Equal(Math.ScaleB(1, -7), DataPrecisions.WidestGap(1f, DataPrecision.BFloat16));    // 2^-7 above 1, 2^-8 below
        Assert.Equal(Math.ScaleB(1, -10), DataPrecisions.WidestGap(-1f, DataPrecision.Float16));
        Assert.Equal(Math.ScaleB(1, -24), DataPrecisions.WidestGap(0f, DataPrecision.Float16));    // float16's smallest subnormal
    }

    [Fact]
    public void EachFormatsBatteryLeavesOutWhatItCannotHoldAndDrawsValuesOfTheFormat()
    {
        var plain = Battery.For(Suite.Quick).Select(c => c.Name).ToHashSet();
        var bf16 = Battery.For(Suite.Quick, precision: DataPrecision.BFloat16);
        var fp16 = Battery.For(Suite.Quick, precision: DataPrecision.Float16);
        Assert.Equal(plain.Where(n => !n.StartsWith("exact-pairs/", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            bf16.Select(c => c.Name["bf16/".Length..]).Order(StringComparer.Ordinal));
        Assert.Equal(["exact-pairs/nchw/train", "exact-pairs/nhwc/train", "large-1e18/nhwc/backward-train", "large-1e18/nhwc/train", "large-mean-1e6/nchw/train"],
            plain.Except(fp16.Select(c => c.Name["fp16/".Length..])).Order(StringComparer.Ordinal));
        foreach (var @case in bf16.Concat(fp16))
        {
            var inputs = CaseInputs.Draw(@case, Battery.DefaultSeed);
            Assert.All(inputs.X.Concat(inputs.Dy), v => Assert.True(DataPrecisions.Holds(v, @case.Precision) && !float.IsInfinity(v) || float.IsInfinity(v) && @case.Name.Contains("inf-channel"), @case.Name));
        }
    }

    [Theory]
    [InlineData("optimized-bf16")]
    [InlineData("optimized-fp16")]
    public void TheOptimizedKernelStoringAReducedFormatPassesItsSuites(string name)
    {
        var kernel = KernelCatalog.Create(name);
        foreach (var activation in Enum.GetValues<Activation>())
        {
            var results = Verifier.Run(kernel, Battery.For(Suite.Quick, activation, kernel.Precision), Battery.DefaultSeed);
            Assert.All(results, r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));
        }
    }

    public static TheoryData<string> Faulty() => new(FaultyPrecisionKernels.Names);

    [Theory]
    [MemberData(nameof(Faulty))]
    public void EveryFaultyBFloat16KernelIsRejectedOnTheOrdinaryCases(string name)
    {
        var kernel = KernelCatalog.Create(FaultyKernels.Prefix + name);
        Assert.Equal(DataPrecision.BFloat16, kernel.Precision);
        var normal = Verifier.Run(kernel, Verifier.Select(Suite.Quick, "bf16/normal", precision: DataPrecision.BFloat16), Battery.DefaultSeed);
        Assert.Contains(normal, r => r.Verdict == Verdict.Failed);
    }

    [Fact]
    public void ATruncatingKernelFailsWhereRoundingToNearestHoldsAndAnUnroundedOneIsNamed()
    {
        // Every ordinary case: toward zero is up to a whole gap off, the bound allows half of one.
        var truncated = Verifier.Run(KernelCatalog.Create("faulty:bf16-truncated"), Verifier.Select(Suite.Quick, "bf16/normal", precision: DataPrecision.BFloat16), Battery.DefaultSeed);
        Assert.All(truncated, r => Assert.Equal(Verdict.Failed, r.Verdict));

        var @case = Verifier.Select(Suite.Quick, "bf16/normal/nchw/train", precision: DataPrecision.BFloat16).Single();
        var unrounded = CaseRunner.Run(KernelCatalog.Create("faulty:bf16-not-rounded"), @case, Battery.DefaultSeed);
        Assert.Contains(unrounded.Violations, v => v.StartsWith("y: 6272 of 6272 values are not bf16 values", StringComparison.Ordinal));
        Assert.All(unrounded.Outputs, o => Assert.True(o.Passed));   // its values are more accurate than the format: only the format check fails it
    }
}
