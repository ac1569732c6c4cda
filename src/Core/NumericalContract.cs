using System.Globalization;

namespace BatchNorm;

/// <summary>How a kernel accumulates its per-channel sums (the mean, the variance, dbeta, dgamma).</summary>
public enum Accumulation
{
    /// <summary>In double, or compensated in float: a sum of M floats is within (M + 1)·2^-53 of Σ|term| of exact.</summary>
    Double,

    /// <summary>In float, combined pairwise (a tree of depth ceil(log2 M)).</summary>
    FloatPairwise,

    /// <summary>In float, sequentially within blocks of at most <see cref="NumericalContract.Block"/> consecutive terms (a chunk), the blocks combined pairwise.</summary>
    FloatBlocked,

    /// <summary>In float, in <see cref="NumericalContract.Block"/> accumulators (the lanes of a vector loop) that each add every L-th term in sequence, combined pairwise at the end.</summary>
    FloatLanes,

    /// <summary>In float, in any order at all (the worst case is one sequential sum of depth M - 1).</summary>
    FloatSequential,
}

/// <summary>How a kernel forms the mean and the variance from its sums.</summary>
public enum StatisticsForm
{
    /// <summary>The mean, then Σ (x - mean)² about that mean held at the sums' precision (a double, or a float pair hi + lo); y is centred on it too.</summary>
    TwoPass,

    /// <summary>As two-pass, but the mean is rounded to float first and the deviations, and y, are centred on the rounded mean (adding its error squared to the variance).</summary>
    RoundedCentre,

    /// <summary>
    /// Welford's update (mean += (x - mean)/k; M2 += (x - mean_old)(x - mean)) in the sums' precision, over the runs the
    /// accumulation names (a block, a lane, the whole channel; pairwise: single values), merged pairwise by Chan, Golub and
    /// LeVeque's formula.
    /// </summary>
    Welford,
}

/// <summary>How a kernel applies the statistics to each element, in y and in the training dx.</summary>
public enum ApplyForm
{
    /// <summary>Centred: y = (x - m)·a + b (one or more roundings on |x - m|), dx = (dy - mean(dy))·k1 + (x - m)·k2, or k1·((dy - mean(dy)) + (x - m)·k3).</summary>
    Centred,

    /// <summary>Folded per channel, y = fma(x, a, b') with b' = beta - m·a; dx = fma(A, dy, fma(B, x, C)): one rounding per element on the result.</summary>
    FoldedFma,

    /// <summary>Folded without a fused multiply-add: x·a rounds on |x·a| (and B·x on |B·x|), which grows with the mean-to-spread ratio.</summary>
    Folded,
}

/// <summary>
/// A kernel's numerical contract: how it sums, how it forms its statistics and how it applies them.
/// The verifier derives every bound from it (docs/tolerances.md, "Contracts"), so a kernel is held
/// tight where its algorithm is accurate and fairly where it legitimately is not. One contract
/// covers the forward and the backward passes. Written as <c>sums/statistics/apply</c>, for example
/// <c>double/two-pass/centred</c>, <c>float-blocked:64/welford/folded-fma</c> or <c>float-lanes:16/rounded-centre/folded</c>.
/// </summary>
/// <param name="Sums">How per-channel sums accumulate.</param>
/// <param name="Statistics">How the mean and variance are formed.</param>
/// <param name="Apply">How y and dx are formed from the per-channel coefficients.</param>
/// <param name="Block">The block of <see cref="Accumulation.FloatBlocked"/> or the lane count of <see cref="Accumulation.FloatLanes"/> (1 to <see cref="MaxBlock"/>); 0 for the others.</param>
public sealed record NumericalContract(Accumulation Sums, StatisticsForm Statistics, ApplyForm Apply, int Block = 0)
{
    /// <summary>
    /// The contract of a kernel that declares none: float sums combined pairwise (or better), two-pass
    /// statistics centred on a float mean, folded without a fused multiply-add. It admits most float
    /// kernels (the bounds of earlier versions of bnverify, unchanged); a kernel that computes more
    /// accurately is held tighter by declaring so.
    /// </summary>
    public static NumericalContract Default { get; } = new(Accumulation.FloatPairwise, StatisticsForm.RoundedCentre, ApplyForm.Folded);

    /// <summary>The most a block may be: 2^20 terms.</summary>
    public const int MaxBlock = 1 << 20;

    /// <summary>The rule <see cref="Parse"/> enforces, for error messages and help text.</summary>
    public const string Syntax =
        "SUMS/STATISTICS/APPLY with SUMS one of double, float-pairwise, float-blocked:B, float-lanes:L (B, L = 1 to 1048576), float-sequential; " +
        "STATISTICS one of two-pass, rounded-centre, welford; APPLY one of centred, folded-fma, folded";

    /// <summary>The contract as <see cref="Parse"/> reads it.</summary>
    public override string ToString()
    {
        string sums = Sums switch
        {
            Accumulation.Double => "double",
            Accumulation.FloatPairwise => "float-pairwise",
            Accumulation.FloatBlocked => string.Create(CultureInfo.InvariantCulture, $"float-blocked:{Block}"),
            Accumulation.FloatLanes => string.Create(CultureInfo.InvariantCulture, $"float-lanes:{Block}"),
            Accumulation.FloatSequential => "float-sequential",
            _ => throw new InvalidOperationException($"{Sums} is not an accumulation"),
        };
        string statistics = Statistics switch
        {
            StatisticsForm.TwoPass => "two-pass",
            StatisticsForm.RoundedCentre => "rounded-centre",
            StatisticsForm.Welford => "welford",
            _ => throw new InvalidOperationException($"{Statistics} is not a statistics form"),
        };
        string apply = Apply switch
        {
            ApplyForm.Centred => "centred",
            ApplyForm.FoldedFma => "folded-fma",
            ApplyForm.Folded => "folded",
            _ => throw new InvalidOperationException($"{Apply} is not an apply form"),
        };
        return $"{sums}/{statistics}/{apply}";
    }

    /// <summary>
    /// Reads <c>SUMS/STATISTICS/APPLY</c> (<see cref="Syntax"/>; lower case, invariant digits).
    /// </summary>
    /// <exception cref="FormatException">The text does not follow <see cref="Syntax"/>; the message names the part that does not.</exception>
    public static NumericalContract Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('/');
        if (parts.Length != 3)
            throw new FormatException($"'{text}' is not a contract: expected {Syntax}");
        int block = 0;
        var sums = parts[0] switch
        {
            "double" => Accumulation.Double,
            "float-pairwise" => Accumulation.FloatPairwise,
            "float-sequential" => Accumulation.FloatSequential,
            _ when parts[0].StartsWith("float-blocked:", StringComparison.Ordinal) => Sized(Accumulation.FloatBlocked, parts[0]["float-blocked:".Length..], out block),
            _ when parts[0].StartsWith("float-lanes:", StringComparison.Ordinal) => Sized(Accumulation.FloatLanes, parts[0]["float-lanes:".Length..], out block),
            _ => throw new FormatException($"'{parts[0]}' is not a way of summing: expected double, float-pairwise, float-blocked:B, float-lanes:L or float-sequential"),
        };
        var statistics = parts[1] switch
        {
            "two-pass" => StatisticsForm.TwoPass,
            "rounded-centre" => StatisticsForm.RoundedCentre,
            "welford" => StatisticsForm.Welford,
            _ => throw new FormatException($"'{parts[1]}' is not a form of the statistics: expected two-pass, rounded-centre or welford"),
        };
        var apply = parts[2] switch
        {
            "centred" => ApplyForm.Centred,
            "folded-fma" => ApplyForm.FoldedFma,
            "folded" => ApplyForm.Folded,
            _ => throw new FormatException($"'{parts[2]}' is not a form of the apply step: expected centred, folded-fma or folded"),
        };
        return new NumericalContract(sums, statistics, apply, block);

        static Accumulation Sized(Accumulation sums, string digits, out int block)
        {
            block = int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int b) && b >= 1 && b <= MaxBlock
                ? b
                : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"'{digits}' is not a block or lane count: expected a whole number from 1 to {MaxBlock}"));
            return sums;
        }
    }

    /// <summary>
    /// How a float sum of <paramref name="m"/> terms is built: the longest run of terms added one after
    /// another (Run), and the depth of the pairwise tree that combines the runs (Merges). Its depth,
    /// Run - 1 + Merges, bounds the additions any term passes through, so the sum is within
    /// depth·u·Σ|term| of exact to first order (Higham, Accuracy and Stability of Numerical Algorithms,
    /// 2nd ed., 4.2). A double sum has no float depth: (0, 0). An m below 1 counts as 1.
    /// </summary>
    public (long Run, long Merges) SumShape(long m)
    {
        m = Math.Max(m, 1);
        return Sums switch
        {
            Accumulation.Double => (0, 0),
            Accumulation.FloatPairwise => (1, Log2Ceiling(m)),
            Accumulation.FloatBlocked => (Math.Min(Block, m), Log2Ceiling((m + Block - 1) / Block)),
            Accumulation.FloatLanes => ((m + Block - 1) / Block, Log2Ceiling(Math.Min(Block, m))),
            Accumulation.FloatSequential => (m, 0),
            _ => throw new InvalidOperationException($"{Sums} is not an accumulation"),
        };
    }

    /// <summary>Run - 1 + Merges of <see cref="SumShape"/>: the float additions a term of a sum of m terms passes through at most (0 in double).</summary>
    public long SumDepth(long m)
    {
        var (run, merges) = SumShape(m);
        return Math.Max(run - 1, 0) + merges;
    }

    /// <summary>Null when the parts fit together, else why not: float-blocked and float-lanes need a size of 1 to <see cref="MaxBlock"/>, the others none.</summary>
    public string? Inconsistency =>
        !Enum.IsDefined(Sums) || !Enum.IsDefined(Statistics) || !Enum.IsDefined(Apply) ? "a part is not one of its kind's names"
        : Sums is Accumulation.FloatBlocked or Accumulation.FloatLanes
            ? (Block >= 1 && Block <= MaxBlock ? null : string.Create(CultureInfo.InvariantCulture, $"{Sums} needs a size of 1 to {MaxBlock}, not {Block}"))
        : Block != 0 ? string.Create(CultureInfo.InvariantCulture, $"{Sums} takes no size (block {Block})")
        : null;

    /// <summary>ceil(log2 m) for m ≥ 1.</summary>
    public static int Log2Ceiling(long m) => m <= 1 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(m - 1));
}
