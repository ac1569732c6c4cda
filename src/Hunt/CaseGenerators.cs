using BatchNorm.Harness.Cases;
using FsCheck;
using FsCheck.Fluent;

namespace BatchNorm.Hunt;

/// <summary>
/// FsCheck generators and shrinkers of verification cases: the battery's ground and beyond. Shapes put N, C and M at
/// and around every vector width (16, 8 and 4 floats), the unroll and chunk sizes and 1; a tenth are long channels and one in twenty-one has one value a channel
/// (M near 2^15 and 2^16). Values range over every family of the battery (large means, constant channels, exact pairs,
/// NaN and infinity, subnormals, huge values, tiny spreads), every pass, layout, convention, eps and momentum, gamma
/// and beta present, absent, zero or negative, and the activations and data precision the kernel supports. A case is a
/// description (a few numbers and its draw seed), so drawing one costs nothing; its inputs are drawn when it runs.
/// </summary>
internal static class CaseGenerators
{
    /// <summary>The largest tensor drawn: long channels reach it; ordinary shapes stay under <see cref="MaxOrdinary"/>.</summary>
    public const long MaxElements = 1L << 19;

    /// <summary>Ordinary shapes are cut down to this many elements (positions first), so a search runs many of them.</summary>
    public const long MaxOrdinary = 1L << 16;

    private static readonly int[] SampleEdges = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17];
    private static readonly int[] ChannelEdges = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 70, 127, 128, 129, 300];
    private static readonly int[] PositionEdges = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097];
    private static readonly int[] LongPositions = [32_767, 32_768, 32_769, 65_535, 65_537];

    /// <summary>How the data of a case is drawn (the <see cref="VerificationCase"/> fields that set it).</summary>
    private readonly record struct Draw(ValueFamily Values, double Offset, double Spread, ChannelFeature Feature);

    /// <summary>Cases of the given activations in <paramref name="precision"/> (those the format can hold).</summary>
    public static Gen<VerificationCase> Cases(IReadOnlyList<Activation> activations, DataPrecision precision) =>
        from draw in Draws()
        from shape in draw.Values == ValueFamily.ExactPairs ? PowerOfTwoShape() : Gen.Frequency((18, OrdinaryShape()), (2, LongChannel()), (1, OneValuePerChannel()))
        from pass in Gen.Elements(Enum.GetValues<BatchNormPass>())
        from convention in Gen.Elements(Enum.GetValues<RunningStatsConvention>())
        from eps in Gen.Frequency((5, Gen.Constant(1e-5)), (1, Gen.Constant(1e-8)), (1, Gen.Constant(1e-3)), (1, Gen.Constant(1e-1)))
        from momentum in Gen.Elements(0.0, 0.1, 0.3, 0.5, 0.9, 0.99, 1.0)
        from activation in Gen.Elements(activations.ToArray())
        from gamma in Gen.Frequency((8, Gen.Constant(GammaKind.Random)), (1, Gen.Constant(GammaKind.Absent)), (1, Gen.Constant(GammaKind.Zero)), (1, Gen.Constant(GammaKind.Negative)))
        from withBeta in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        from withRunning in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        from zeroDy in Gen.Frequency((12, Gen.Constant(false)), (1, Gen.Constant(true)))
        from seed in Gen.Choose(0, int.MaxValue)
        let @case = Settle(new VerificationCase
        {
            Name = "hunt",
            DrawSeed = seed,
            Shape = shape,
            Pass = pass,
            Options = new BatchNormOptions(convention, eps, momentum) { Activation = activation },
            Precision = precision,
            Values = draw.Values,
            Offset = draw.Offset,
            Spread = draw.Spread,
            Feature = draw.Feature,
            Gamma = gamma,
            WithBeta = withBeta,
            WithRunningStats = withRunning,
            ZeroDy = zeroDy,
        })
        where Valid(@case)
        select @case;

    /// <summary>
    /// Simpler cases, most promising first: fewer samples, channels and positions (to 1, to half, by one), then the
    /// data and options toward the plain ones (normal values, no feature, random gamma with beta, running statistics,
    /// PyTorch's convention, eps 1e-5, momentum 0.1, no activation, channels-first). The pass, the data precision and
    /// the draw seed stay. FsCheck takes the first candidate that still fails and shrinks on from it.
    /// </summary>
    public static IEnumerable<VerificationCase> Shrink(VerificationCase c)
    {
        var (n, ch, s, layout) = (c.Shape.N, c.Shape.C, c.Shape.S, c.Shape.Layout);
        var candidates = new List<VerificationCase>();
        candidates.AddRange(Smaller(n).Select(v => c with { Shape = new TensorShape(v, ch, s, layout) }));
        candidates.AddRange(Smaller(ch).Select(v => c with { Shape = new TensorShape(n, v, s, layout) }));
        candidates.AddRange(Smaller(s).Select(v => c with { Shape = new TensorShape(n, ch, v, layout) }));
        var plain = BatchNormOptions.PyTorch with { Activation = c.Options.Activation };
        candidates.AddRange(
        [
            c with { Feature = ChannelFeature.None },
            c with { Values = ValueFamily.Normal, Offset = 0, Spread = 1 },
            c with { Offset = 0 },
            c with { Spread = 1 },
            c with { Gamma = GammaKind.Random },
            c with { WithBeta = true },
            c with { WithRunningStats = true },
            c with { ZeroDy = false },
            c with { Options = plain },
            c with { Options = c.Options with { Epsilon = plain.Epsilon } },
            c with { Options = c.Options with { Momentum = plain.Momentum } },
            c with { Options = c.Options with { Convention = plain.Convention } },
            c with { Options = c.Options with { Activation = Activation.None } },
            c with { Shape = new TensorShape(n, ch, s, Layout.ChannelsFirst) },
        ]);
        foreach (var candidate in candidates.Select(Settle))
        {
            if (candidate != c && Valid(candidate))
                yield return candidate;
        }
    }

    /// <summary>A case a correct kernel must accept and the verifier can judge (<see cref="CaseRules.Invalid"/>).</summary>
    public static bool Valid(VerificationCase c) => CaseRules.Invalid(c) is null;

    /// <summary>
    /// The fields that follow from the others: the name (from the draw seed and what the case is, so a report reads
    /// it), and whether the case is about zeros by design (M = 1, dy = 0 or gamma = 0: mostly zero outputs are its
    /// point, not a sign it proves little).
    /// </summary>
    public static VerificationCase Settle(VerificationCase c)
    {
        bool aboutZeros = c.Shape.M == 1 || c.ZeroDy || c.Gamma == GammaKind.Zero;
        string name = Battery.NamePrefix(c.Options.Activation, c.Precision) + $"hunt-{c.DrawSeed:x8}/{c.Shape.Layout.Short()}/{Battery.PassName(c.Pass)}";
        return c with { Name = name, AboutZeros = aboutZeros };
    }

    private static Gen<TensorShape> OrdinaryShape() =>
        from n in Biased(SampleEdges, 32)
        from c in Biased(ChannelEdges, 300)
        from s in Biased(PositionEdges, 4100)
        from layout in Gen.Elements(Layout.ChannelsFirst, Layout.ChannelsLast)
        select Fit(n, c, s, layout);

    /// <summary>N and S powers of two with 2 ≤ M ≤ <see cref="CaseRules.MaxExactPairsM"/>, where exact pairs stay exact.</summary>
    private static Gen<TensorShape> PowerOfTwoShape() =>
        from logN in Gen.Choose(0, 3)
        from logS in Gen.Choose(logN == 0 ? 1 : 0, 12 - logN)
        from c in Biased(ChannelEdges, 300)
        from layout in Gen.Elements(Layout.ChannelsFirst, Layout.ChannelsLast)
        select Fit(1 << logN, c, 1 << logS, layout);

    /// <summary>M = 1: each channel's one value is its mean, xhat is 0 and the variance 0 (or undefined unbiased).</summary>
    private static Gen<TensorShape> OneValuePerChannel() =>
        from c in Biased(ChannelEdges, 300)
        from layout in Gen.Elements(Layout.ChannelsFirst, Layout.ChannelsLast)
        select new TensorShape(1, c, 1, layout);

    private static Gen<TensorShape> LongChannel() =>
        from n in Gen.Elements(1, 2)
        from c in Gen.Elements(1, 2, 3)
        from s in Gen.Elements(LongPositions)
        from layout in Gen.Elements(Layout.ChannelsFirst, Layout.ChannelsLast)
        select new TensorShape(n, c * n * s > MaxElements ? 1 : c, s, layout);

    private static Gen<Draw> Draws() => Gen.Frequency(
        (8, Gen.Constant(new Draw(ValueFamily.Normal, 0, 1, ChannelFeature.None))),
        (2, Gen.Elements(new Draw(ValueFamily.Uniform, 0, 1, ChannelFeature.None), new Draw(ValueFamily.MixedScales, 0, 1, ChannelFeature.None))),
        (3, from offset in Gen.Elements(1e2, 1e4, -1e4, 1e6)
            from spread in Gen.Elements(1e-2, 1.0)
            from family in Gen.Elements(ValueFamily.Normal, ValueFamily.Uniform)
            select new Draw(family, offset, spread, ChannelFeature.None)),
        (1, Gen.Constant(new Draw(ValueFamily.ExactPairs, 3, 1, ChannelFeature.None))),
        (1, Gen.Constant(new Draw(ValueFamily.Subnormal, 0, 1e-38, ChannelFeature.None))),
        (1, from spread in Gen.Elements(1e18, 4e18) from offset in Gen.Elements(0.0, 1e18) select new Draw(ValueFamily.Normal, offset, spread, ChannelFeature.None)),
        (1, Gen.Constant(new Draw(ValueFamily.Normal, 0, 1e-3, ChannelFeature.None))),
        (2, Gen.Constant(new Draw(ValueFamily.Normal, 100, 1, ChannelFeature.Constant))),
        (2, Gen.Elements(ChannelFeature.NaN, ChannelFeature.Infinity).Select(f => new Draw(ValueFamily.Normal, 0, 1, f))));

    /// <summary>An edge most of the time, any size up to <paramref name="max"/> otherwise.</summary>
    private static Gen<int> Biased(int[] edges, int max) => Gen.Frequency((3, Gen.Elements(edges)), (1, Gen.Choose(1, max)));

    /// <summary>Halves s, then c, then n until the tensor has at most <see cref="MaxOrdinary"/> elements.</summary>
    private static TensorShape Fit(int n, int c, int s, Layout layout)
    {
        while ((long)n * c * s > MaxOrdinary && s > 1)
            s = Math.Max(1, s / 2);
        while ((long)n * c * s > MaxOrdinary && c > 1)
            c = Math.Max(1, c / 2);
        while ((long)n * c * s > MaxOrdinary && n > 1)
            n = Math.Max(1, n / 2);
        return new TensorShape(n, c, s, layout);
    }

    private static IEnumerable<int> Smaller(int extent)
    {
        if (extent > 1)
            yield return 1;
        if (extent > 3)
            yield return extent / 2;
        if (extent > 2)
            yield return extent - 1;
    }
}
