using BatchNorm.Harness.Cases;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// The variance as E[x²] − E[x]² in float (a one-pass formula: Caffe, XLA, Flax): the two terms are each rounded
/// relative to E[x²] = mean² + var, so the difference carries an error that follows mean², not the variance, and is
/// negative where the mean dwarfs the spread (then istd and every y of the channel are NaN). Read on batchVariance:
/// a damaged channel is explained where the error is at least half a float rounding of E[x²] (u E[x²] / 2, u = 2^-24:
/// a centred variance cannot come that far off when mean² ≫ var) and at most what M float additions of squares can
/// lose (2 M u E[x²]), or where the variance is negative outright. The mean must be at least twice the spread
/// (mean² ≥ 4 var: the subtraction then cancels at least two bits), and a channel holding the unbiased variance
/// var M/(M−1) is left to <see cref="FormulaDetector"/>.
/// </summary>
internal static class CancellationDetector
{
    private const double U = 1.0 / (1 << 24);

    public static BugFinding? Detect(Damage d)
    {
        if (d.Output.Name != BatchNormOutput.BatchVariance || d.ExpectedOf(BatchNormOutput.BatchMean) is not { } mean)
            return null;
        double m = d.Shape.M;
        double worst = 0;
        int explained = 0;
        foreach (int c in d.Damaged)
        {
            double variance = d.Expected[c], meanSquared = mean[c] * mean[c], actual = d.Actual[c];
            if (!double.IsFinite(variance) || meanSquared < 4 * variance || double.IsNaN(actual)
                || Math.Abs(actual - (variance * m / (m - 1))) <= (1e-5 * variance) + d.Tolerance(c))
                continue;
            double secondMoment = meanSquared + variance, error = Math.Abs(actual - variance);
            if (actual < 0 || (error >= 0.5 * U * secondMoment && error <= 2 * m * U * secondMoment))
            {
                explained++;
                worst = Math.Min(worst, actual);
            }
        }

        if (!d.Explains(explained))
            return null;
        string negative = worst < 0 ? FormattableString.Invariant($", as low as {worst:G3}") : "";
        return new BugFinding(BugKind.Formula,
            $"formula: batchVariance = E[x²] − E[x]² in float: its error follows mean², not the variance (cancellation){negative} ({explained} channel(s))", explained);
    }
}
