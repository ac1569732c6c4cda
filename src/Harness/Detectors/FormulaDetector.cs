using BatchNorm.Harness.Cases;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// A statistic computed by a known wrong formula, each read off the reference's own statistics: istd with eps outside
/// the square root, with the unbiased variance, or without eps (y's coefficients: <see cref="CoefficientDetector"/>); a running update with the momentum's weights swapped,
/// or the unbiased variance where the convention takes the biased one. At least 90% of the damaged channels must hold
/// the wrong formula's value within 1e-5 relative and the channel's bound.
/// </summary>
internal static class FormulaDetector
{
    public static BugFinding? Detect(Damage d)
    {
        var s = d.Shape;
        var options = d.Case.Options;
        double eps = options.Epsilon, w = RunningStatsRule.BatchWeight(options.Convention, options.Momentum);
        double m = s.M;
        var candidates = new List<(string Line, Func<int, double> Value)>();
        double[]? variance = d.ExpectedOf(BatchNormOutput.BatchVariance), mean = d.ExpectedOf(BatchNormOutput.BatchMean);
        var name = d.Output.Name;
        if (name == BatchNormOutput.BatchInvStd && variance is not null)
        {
            candidates.Add(("formula: batchInvStd = 1/(sqrt(var) + eps): eps outside the square root", c => 1 / (Math.Sqrt(variance[c]) + eps)));
            candidates.Add(("formula: batchInvStd = 1/sqrt(var M/(M-1) + eps): normalized with the unbiased variance", c => 1 / Math.Sqrt((variance[c] * m / (m - 1)) + eps)));
            candidates.Add(("formula: batchInvStd = 1/sqrt(var): eps left out", c => 1 / Math.Sqrt(variance[c])));
        }
        else if (name == BatchNormOutput.RunningMean && mean is not null)
        {
            candidates.Add(("formula: running mean = w old + (1 - w) batch: the momentum's weights swapped", c => (w * d.Inputs.RunningMean[c]) + ((1 - w) * mean[c])));
        }
        else if (name == BatchNormOutput.RunningVariance && variance is not null && w > 0)
        {
            candidates.Add(("formula: running variance = w old + (1 - w) batch: the momentum's weights swapped",
                c => (w * d.Inputs.RunningVariance[c]) + ((1 - w) * RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, 0, variance[c], s.M) / w)));
            // Under a convention that takes the unbiased variance this reading is the correct update, not a mistake.
            if (!RunningStatsRule.UsesUnbiasedVariance(options.Convention))
            {
                candidates.Add(("formula: running variance takes var M/(M-1) where the convention takes the biased variance",
                    c => ((1 - w) * d.Inputs.RunningVariance[c]) + (w * variance[c] * m / (m - 1))));
            }
        }

        foreach (var (line, value) in candidates)
        {
            // A wrong formula's NaN (the unbiased variance at M = 1 divides by 0) matches the kernel's NaN.
            int explained = d.Damaged.Count(c => double.IsNaN(value(c)) ? float.IsNaN(d.Actual[c])
                : double.IsFinite(value(c)) && Math.Abs(d.Actual[c] - value(c)) <= (1e-5 * Math.Abs(value(c))) + d.Tolerance(c));
            if (d.Explains(explained))
                return new BugFinding(BugKind.Formula, $"{line} ({explained} channel(s))", explained);
        }

        return null;
    }
}
