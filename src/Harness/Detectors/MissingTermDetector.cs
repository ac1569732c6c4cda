using System.Globalization;
using BatchNorm.Harness.Cases;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// A per-channel sum short of one sample's contribution (a loop bound off by one, a chunk not merged): for dbeta,
/// dgamma or the batch mean, some sample n such that, in at least 90% of the damaged channels, the kernel's value is
/// the reference's less that sample's terms (Σ_s dy, Σ_s dy·xhat, Σ_s x / M; dy gated by a fused ReLU's y), within the
/// channel's bound and 1e-5 of the terms' magnitude.
/// </summary>
internal static class MissingTermDetector
{
    public static BugFinding? Detect(Damage d)
    {
        var name = d.Output.Name;
        if (name is not (BatchNormOutput.DBeta or BatchNormOutput.DGamma or BatchNormOutput.BatchMean))
            return null;
        var s = d.Shape;
        Func<int, double> term = Term(d);
        BugFinding? best = null;
        for (int n = 0; n < s.N; n++)
        {
            int explained = 0;
            foreach (int c in d.Damaged)
            {
                double contribution = 0, magnitude = 0;
                for (int sp = 0; sp < s.S; sp++)
                {
                    double t = term((int)s.IndexOf(n, c, sp));
                    contribution += t;
                    magnitude += Math.Abs(t);
                }

                if (Math.Abs(d.Actual[c] - (d.Expected[c] - contribution)) <= (2 * d.Tolerance(c)) + (1e-5 * magnitude) && Math.Abs(contribution) > d.Tolerance(c))
                    explained++;
            }

            if (d.Explains(explained) && (best is null || explained > best.Explained))
            {
                best = new BugFinding(BugKind.MissingTerm, string.Create(CultureInfo.InvariantCulture,
                    $"missing term: {name.Name()} lacks sample n = {n}'s contribution in {explained} channel(s) (a sum over one sample less)"), explained);
            }
        }

        return best;
    }

    /// <summary>Each element's term of the output's sum.</summary>
    private static Func<int, double> Term(Damage d)
    {
        var s = d.Shape;
        var inputs = d.Inputs;
        bool relu = d.Case.Options.Activation == Activation.Relu && inputs.ForwardY.Length > 0;
        double Dy(int i) => relu && inputs.ForwardY[i] <= 0 ? 0 : inputs.Dy[i];
        if (d.Output.Name == BatchNormOutput.BatchMean)
            return i => inputs.X[i] / (double)s.M;
        if (d.Output.Name == BatchNormOutput.DBeta)
            return Dy;
        var (mean, istd) = d.XhatStatistics();
        return i => Dy(i) * (inputs.X[i] - mean[s.CoordinatesOf(i).C]) * istd[s.CoordinatesOf(i).C];
    }
}
