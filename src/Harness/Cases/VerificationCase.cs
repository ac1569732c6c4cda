using System.Globalization;

namespace BatchNorm.Harness.Cases;

/// <summary>
/// A named, seeded, reproducible verification case: one pass over one shape with one way of
/// drawing its inputs. Everything a kernel sees follows from these fields and the seed.
/// </summary>
internal sealed record VerificationCase
{
    /// <summary>Unique within a suite, e.g. "large-mean-1e4/nhwc/train".</summary>
    public required string Name { get; init; }

    public required TensorShape Shape { get; init; }

    public required BatchNormPass Pass { get; init; }

    public BatchNormOptions Options { get; init; } = BatchNormOptions.PyTorch;

    /// <summary>The format of the data tensors: inputs drawn and rounded to it, outputs required to be values of it.</summary>
    public DataPrecision Precision { get; init; } = DataPrecision.Float32;

    public ValueFamily Values { get; init; } = ValueFamily.Normal;

    public double Offset { get; init; }

    public double Spread { get; init; } = 1.0;

    public ChannelFeature Feature { get; init; }

    public GammaKind Gamma { get; init; }

    /// <summary>False for no beta span (shift 0).</summary>
    public bool WithBeta { get; init; } = true;

    /// <summary>Training forward only: pass running statistics to update.</summary>
    public bool WithRunningStats { get; init; } = true;

    /// <summary>
    /// Training backward only: the kernel used saved statistics of its own that the verifier does
    /// not have (<c>compare</c> without <c>--saved-mean</c>/<c>--saved-invstd</c>). The reference then
    /// uses the exact statistics of x, and the bounds admit the kernel's float rounding of them.
    /// </summary>
    public bool SavedStatisticsFromKernel { get; init; }

    /// <summary>Backward only: dy = 0, so dx must be exactly 0.</summary>
    public bool ZeroDy { get; init; }

    /// <summary>
    /// The case's outputs are mostly zeros by design (M = 1 backward, dy = 0, gamma = 0), so it is
    /// not mistrusted for it.
    /// </summary>
    public bool AboutZeros { get; init; }

    /// <summary>
    /// The seed the inputs are drawn with whatever the suite's seed: set for a case that is not a suite's (one hunt
    /// generated, replayed from its case file), so it draws the same inputs in every run. Null for a suite's case.
    /// </summary>
    public int? DrawSeed { get; init; }

    /// <summary>
    /// The seed the inputs are drawn with, given the suite's seed: <see cref="DrawSeed"/> where set, else the suite seed
    /// combined with a stable hash of the case's name, so adding, removing or reordering cases re-seeds no other case.
    /// </summary>
    public int SeedFor(int suiteSeed) => DrawSeed ?? unchecked((suiteSeed * 1_000_003) + (int)NameHash(Name));

    /// <summary>32-bit FNV-1a of the name's UTF-16 code units: stable across runs, processes and .NET versions (unlike string.GetHashCode).</summary>
    public static uint NameHash(string name)
    {
        uint hash = 2166136261;
        foreach (char ch in name)
            hash = unchecked((hash ^ ch) * 16777619);
        return hash;
    }

    /// <summary>A one-line description for reports.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Shape} {Pass} {Options.Convention} eps={Options.Epsilon:R} momentum={Options.Momentum:R}{(Precision == DataPrecision.Float32 ? "" : $" data={Precision.ShortName()}")} values={Values} offset={Offset:R} spread={Spread:R} feature={Feature} gamma={Gamma}");
}
