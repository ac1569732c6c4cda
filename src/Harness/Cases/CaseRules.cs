using System.Globalization;
using System.Numerics;

namespace BatchNorm.Harness.Cases;

/// <summary>
/// What a case outside the suites (a case file's, one hunt draws) must be for its run to mean something: the rules the
/// battery's cases meet by construction.
/// </summary>
internal static class CaseRules
{
    /// <summary>
    /// Why the case cannot be run, or null when it can: its data must fit its format (<see cref="Battery.Holds"/>);
    /// exact pairs need M a power of two from 2 to <see cref="MaxExactPairsM"/> (the pairs' mean and variance are then
    /// exact floats, which is the family's point); a training forward with running statistics under an unbiased convention needs M > 1 (it
    /// divides by M - 1; kernels refuse it, as PyTorch does).
    /// </summary>
    /// <summary>
    /// The largest M whose exact pairs have an exact float variance: each deviation is j 2^-8 with |j| ≤ 64, so the
    /// variance is (Σ j²) 2^-16 / M, exact while Σ j² ≤ 64² M fits a float's 24 bits: M ≤ 2^12. (Found by hunt: at
    /// M = 2^15 the reference's exactness check stopped the run.)
    /// </summary>
    public const int MaxExactPairsM = 1 << 12;

    public static string? Invalid(VerificationCase c)
    {
        int m = c.Shape.M;
        if (!Battery.Holds(c, c.Precision))
            return $"precision {c.Precision.ShortName()} cannot hold its values ({c.Values}, offset {c.Offset.ToString("R", CultureInfo.InvariantCulture)}, spread {c.Spread.ToString("R", CultureInfo.InvariantCulture)})";
        if (c.Values == ValueFamily.ExactPairs && (m < 2 || m > MaxExactPairsM || !BitOperations.IsPow2(m)))
            return string.Create(CultureInfo.InvariantCulture, $"exact pairs need M = N*S a power of two from 2 to {MaxExactPairsM}, not {m}");
        if (c.Pass == BatchNormPass.ForwardTraining && c.WithRunningStats && m == 1 && RunningStatsRule.UsesUnbiasedVariance(c.Options.Convention))
            return $"a training forward with running statistics under {c.Options.Convention} needs M > 1 (its unbiased variance divides by M - 1)";
        return null;
    }
}
