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
    /// exact pairs need M a power of two of at least 2 (the pairs' mean and variance are then exact floats, which is
    /// the family's point); a training forward with running statistics under an unbiased convention needs M > 1 (it
    /// divides by M - 1; kernels refuse it, as PyTorch does).
    /// </summary>
    public static string? Invalid(VerificationCase c)
    {
        int m = c.Shape.M;
        if (!Battery.Holds(c, c.Precision))
            return $"precision {c.Precision.ShortName()} cannot hold its values ({c.Values}, offset {c.Offset.ToString("R", CultureInfo.InvariantCulture)}, spread {c.Spread.ToString("R", CultureInfo.InvariantCulture)})";
        if (c.Values == ValueFamily.ExactPairs && (m < 2 || !BitOperations.IsPow2(m)))
            return string.Create(CultureInfo.InvariantCulture, $"exact pairs need M = N*S a power of two of at least 2, not {m}");
        if (c.Pass == BatchNormPass.ForwardTraining && c.WithRunningStats && m == 1 && RunningStatsRule.UsesUnbiasedVariance(c.Options.Convention))
            return $"a training forward with running statistics under {c.Options.Convention} needs M > 1 (its unbiased variance divides by M - 1)";
        return null;
    }
}
