using BatchNorm.Harness.Cases;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// y computed with the wrong per-channel coefficients, each a formula mistake with a known signature: gamma or beta
/// taken from the neighbouring channel (a coefficient index off by one), or, in inference, the batch's own statistics
/// used where the running ones belong. At least 90% of the damaged elements must hold the wrong formula's value within
/// their bound and 1e-5 relative, a value the right one's allowance does not also reach (<see cref="Damage.Distinguishable"/>:
/// on a channel whose bound is wide, a neighbour's beta within it is no reading).
/// </summary>
internal static class CoefficientDetector
{
    public static BugFinding? Detect(Damage d)
    {
        if (d.Output.Name != BatchNormOutput.Y || d.Case.Options.Activation != Activation.None)
            return null;
        var s = d.Shape;
        var inputs = d.Inputs;
        float Gamma(int c) => inputs.Gamma.Length == 0 ? 1f : inputs.Gamma[c];
        float Beta(int c) => inputs.Beta.Length == 0 ? 0f : inputs.Beta[c];
        var candidates = new List<(string Line, Func<int, int, double?> Value)>();
        foreach (int step in new[] { 1, -1 })
        {
            string which = step > 0 ? "next" : "previous";
            candidates.Add(($"formula: y takes gamma from the {which} channel (a coefficient index off by {step})",
                (i, c) => c + step < 0 || c + step >= s.C || Gamma(c) == 0 ? null : ((d.Expected[i] - Beta(c)) * Gamma(c + step) / Gamma(c)) + Beta(c)));
            candidates.Add(($"formula: y takes beta from the {which} channel (a coefficient index off by {step})",
                (i, c) => c + step < 0 || c + step >= s.C ? null : d.Expected[i] - Beta(c) + Beta(c + step)));
        }

        if (d.Case.Pass == BatchNormPass.ForwardInference)
        {
            var (mean, istd) = d.XhatStatistics();
            candidates.Add(("formula: inference normalizes with the batch's own mean and variance instead of the running statistics",
                (i, c) => (Gamma(c) * (inputs.X[i] - mean[c]) * istd[c]) + Beta(c)));
        }

        foreach (var (line, value) in candidates)
        {
            // The wrong formula's NaN (a channel of x holding one, normalized by its own statistics) matches the kernel's NaN.
            int explained = d.Damaged.Count(i => value(i, s.CoordinatesOf(i).C) is { } v
                                                 && (double.IsNaN(v) ? float.IsNaN(d.Actual[i])
                                                     : double.IsFinite(v) && d.Distinguishable(i, v) && Math.Abs(d.Actual[i] - v) <= d.Tolerance(i) + (1e-5 * Math.Abs(v))));
            if (d.Explains(explained))
                return new BugFinding(BugKind.Formula, $"{line}: {explained} elements", explained);
        }

        return null;
    }
}
