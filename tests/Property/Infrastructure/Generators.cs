using FsCheck;
using FsCheck.Fluent;

namespace BatchNorm.Tests.Property.Infrastructure;

/// <summary>How a generated case's x is drawn.</summary>
internal enum Values
{
    Normal,
    LargeOffset,
    Tiny,
    ConstantChannels,
    MixedScales,
    NonFinite,
}

/// <summary>Generators and shrinkers of <see cref="PropertyCase"/>.</summary>
internal static class Generators
{
    // Edges: 1, and each vector width +-1 for the 512-, 256- and 128-bit lanes.
    private static readonly int[] SampleEdges = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 64];
    private static readonly int[] ChannelEdges = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70];
    private static readonly int[] PositionEdges = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 300];

    /// <summary>Any family of values (non-finite included), shrinking.</summary>
    public static Arbitrary<PropertyCase> Cases(params Values[] families) => Arb.From(Case(families.Length == 0 ? Enum.GetValues<Values>() : families), Shrink);

    /// <summary>Cases with M = N*S = 1.</summary>
    public static Arbitrary<PropertyCase> OneValuePerChannel() =>
        Arb.From(Case(Enum.GetValues<Values>()).Select(c => c.Slice(1, c.Shape.C, 1)), Shrink);

    /// <summary>Cases with one NaN or infinity in one channel and at least two channels.</summary>
    public static Arbitrary<PropertyCase> NonFiniteInOneChannel() =>
        Arb.From(Case([Values.NonFinite]).Where(c => c.Shape.C >= 2), c => Shrink(c).Where(s => s.Shape.C >= 2 && s.X.Any(v => !float.IsFinite(v))));

    private static Gen<int> Biased(int[] edges, int max) =>
        Gen.Frequency((3, Gen.Elements(edges)), (2, Gen.Choose(1, max)));

    private static Gen<PropertyCase> Case(Values[] families) => Gen.Sized(size =>
        from n in Biased(SampleEdges, 64)
        from c in Biased(ChannelEdges, 70)
        from s in Biased(PositionEdges, 300)
        from layout in Gen.Elements(Layout.ChannelsFirst, Layout.ChannelsLast)
        from family in Gen.Elements(families)
        from gammaKind in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Constant(2)))
        from withBeta in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from zeroDy in Gen.Frequency((7, Gen.Constant(false)), (1, Gen.Constant(true)))
        from convention in Gen.Elements(Enum.GetValues<RunningStatsConvention>())
        from eps in Gen.Elements(1e-8, 1e-5, 1e-3, 1e-1)
        from momentum in Gen.Elements(0.0, 0.1, 0.5, 0.9, 0.99, 1.0)
        from seed in Gen.Choose(0, int.MaxValue)
        select Build(Fit(n, c, s, size), layout, family, gammaKind, withBeta, zeroDy, new BatchNormOptions(convention, eps, momentum), seed));

    /// <summary>Shrinks s, then c, then n until the tensor fits the size's budget (200 elements per size step).</summary>
    private static (int N, int C, int S) Fit(int n, int c, int s, int size)
    {
        long budget = 200L * Math.Max(size, 1);
        while ((long)n * c * s > budget && s > 1)
            s = Math.Max(1, s / 2);
        while ((long)n * c * s > budget && c > 1)
            c = Math.Max(1, c / 2);
        while ((long)n * c * s > budget && n > 1)
            n = Math.Max(1, n / 2);
        return (n, c, s);
    }

    private static PropertyCase Build((int N, int C, int S) dims, Layout layout, Values family, int gammaKind, bool withBeta, bool zeroDy, BatchNormOptions options, int seed)
    {
        // Values come from a seeded System.Random: cheap for thousands of floats, and fixed by the
        // FsCheck seed, so a replay regenerates them.
        var random = new Random(seed);
        var shape = new TensorShape(dims.N, dims.C, dims.S, layout);
        double Normal() => Harness.Cases.CaseInputs.Normal(random);
        double[] scale = Enumerable.Range(0, shape.C).Select(_ => Math.Pow(10, random.NextDouble() * 6 - 3)).ToArray();
        bool[] constant = Enumerable.Range(0, shape.C).Select(_ => random.Next(3) == 0).ToArray();
        float[] x = new float[shape.ElementCount];
        for (int ch = 0; ch < shape.C; ch++)
        {
            float first = (float)Normal();
            foreach (int i in shape.ChannelOffsets(ch))
            {
                x[i] = family switch
                {
                    Values.LargeOffset => (float)(1e4 + 1e-2 * Normal()),
                    Values.Tiny => (float)(1e-38 * Normal()),
                    Values.ConstantChannels when constant[ch] => first,
                    Values.MixedScales => (float)(scale[ch] * Normal()),
                    // Non-finite values are planted after the draw; the other channels of a constant-channel case are ordinary.
                    Values.Normal or Values.NonFinite or Values.ConstantChannels => (float)Normal(),
                    _ => throw new ArgumentOutOfRangeException(nameof(family), family, "not a value family"),
                };
            }
        }

        if (family == Values.NonFinite)
            x[random.Next(x.Length)] = random.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        float[] gamma = gammaKind switch
        {
            1 => new float[shape.C],
            2 => [],
            _ => Enumerable.Range(0, shape.C).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray(),
        };
        float[] beta = withBeta ? Enumerable.Range(0, shape.C).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray() : [];
        float[] dy = zeroDy ? new float[x.Length] : Enumerable.Range(0, x.Length).Select(_ => (float)Normal()).ToArray();
        double center = family == Values.LargeOffset ? 1e4 : 0, spread = family == Values.LargeOffset ? 1e-2 : 1;
        float[] runMean = Enumerable.Range(0, shape.C).Select(_ => (float)(center + 0.1 * spread * Normal())).ToArray();
        float[] runVar = Enumerable.Range(0, shape.C).Select(_ => (float)(spread * spread * (0.5 + random.NextDouble()))).ToArray();
        return new PropertyCase(shape, options, x, gamma, beta, dy, runMean, runVar);
    }

    /// <summary>
    /// Toward fewer samples, channels and positions first (to one, to half, by one, and dropping
    /// the first so a failure in a later channel or sample survives), then toward simpler values.
    /// </summary>
    public static IEnumerable<PropertyCase> Shrink(PropertyCase c)
    {
        var (n, ch, s) = (c.Shape.N, c.Shape.C, c.Shape.S);
        foreach (int smaller in Smaller(n))
            yield return c.Slice(smaller, ch, s);
        if (n > 1)
            yield return c.Slice(n - 1, ch, s, firstSample: 1);
        foreach (int smaller in Smaller(ch))
            yield return c.Slice(n, smaller, s);
        if (ch > 1)
            yield return c.Slice(n, ch - 1, s, firstChannel: 1);
        foreach (int smaller in Smaller(s))
            yield return c.Slice(n, ch, smaller);
        if (c.Gamma.Length > 0 && c.Gamma.Any(g => g != 1))
            yield return c with { Gamma = Enumerable.Repeat(1f, ch).ToArray() };
        if (c.Beta.Any(b => b != 0))
            yield return c with { Beta = new float[ch] };
        if (c.Dy.Any(d => d != 1))
            yield return c with { Dy = Enumerable.Repeat(1f, c.Dy.Length).ToArray() };
        if (c.X.Any(v => float.IsFinite(v) && v != MathF.Round(v, 1)))
            yield return c with { X = c.X.Select(v => float.IsFinite(v) ? MathF.Round(v, 1) : v).ToArray() };
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
