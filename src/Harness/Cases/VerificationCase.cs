using System.Globalization;

namespace BatchNorm.Harness.Cases;

/// <summary>
/// A named, seeded, reproducible verification case: one pass over one shape with one way of
/// drawing its inputs. Everything a kernel sees follows from these fields and the seed.
/// </summary>
public sealed record VerificationCase
{
    /// <summary>Unique within a suite, e.g. "large-mean-1e4/nhwc/train".</summary>
    public required string Name { get; init; }

    public required TensorShape Shape { get; init; }

    public required BatchNormPass Pass { get; init; }

    public BatchNormOptions Options { get; init; } = BatchNormOptions.PyTorch;

    public ValueFamily Values { get; init; } = ValueFamily.Normal;

    public double Offset { get; init; }

    public double Spread { get; init; } = 1.0;

    public ChannelFeature Feature { get; init; }

    public GammaKind Gamma { get; init; }

    /// <summary>False for no beta span (shift 0).</summary>
    public bool WithBeta { get; init; } = true;

    /// <summary>Training forward only: pass running statistics to update.</summary>
    public bool WithRunningStats { get; init; } = true;

    /// <summary>Backward only: dy = 0, so dx must be exactly 0.</summary>
    public bool ZeroDy { get; init; }

    /// <summary>
    /// The case's outputs are mostly zeros by design (M = 1 backward, dy = 0, gamma = 0), so it is
    /// not mistrusted for it.
    /// </summary>
    public bool AboutZeros { get; init; }

    /// <summary>Added to the suite seed to give the case's own seed.</summary>
    public int SeedOffset { get; init; }

    /// <summary>The seed the inputs are drawn with, given the suite's seed.</summary>
    public int SeedFor(int suiteSeed) => unchecked(suiteSeed * 1_000_003 + SeedOffset);

    /// <summary>A one-line description for reports.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Shape} {Pass} {Options.Convention} eps={Options.Epsilon:R} momentum={Options.Momentum:R} values={Values} offset={Offset:R} spread={Spread:R} feature={Feature} gamma={Gamma}");
}
