using BatchNorm.Harness.Cases;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// A fused ReLU's gate wrong: in the backward, at least 90% of dx's damage lies where the gate taken from x (x &gt; 0, or
/// x above the mean its xhat uses) and the gate from the forward's y disagree, or only where the forward's y is exactly 0
/// (the gate lets y = 0 through), or only where the forward clamped (the gate is not applied); dbeta and dgamma summed
/// under such a gate; in the forward, y's damage lies only where the ReLU clamps.
/// </summary>
internal static class GateDetector
{
    public static BugFinding? Detect(Damage d)
    {
        if (d.Case.Options.Activation != Activation.Relu)
            return null;
        var inputs = d.Inputs;
        var candidates = new List<(string Line, Func<int, bool> Where)>();
        if (d.Output.Name == BatchNormOutput.Dx && inputs.ForwardY.Length == d.Actual.Length)
        {
            float[] y = inputs.ForwardY, x = inputs.X;
            double[] mean = d.XhatStatistics().Mean;
            var s = d.Shape;
            candidates.Add(("gate: dx wrong exactly where the forward's y is 0 (the gate tests y < 0 and lets a clamped y = 0 through)", i => y[i] == 0));
            candidates.Add(("gate: dx wrong exactly where the gate from x (x > 0) and the gate from the forward's y disagree (the gate reads x instead of y)", i => (x[i] > 0) != (y[i] > 0)));
            candidates.Add(("gate: dx wrong exactly where the gate from x (x above the mean its xhat uses) and the gate from the forward's y disagree (the gate reads xhat instead of y)",
                i => (x[i] > mean[s.CoordinatesOf(i).C]) != (y[i] > 0)));
            candidates.Add(("gate: dx wrong only where the forward clamped y (the gate is not applied)", i => y[i] <= 0));
        }
        else if (d.Output.Name is BatchNormOutput.DBeta or BatchNormOutput.DGamma && inputs.ForwardY.Length == inputs.X.Length)
        {
            return PerChannel(d);
        }
        else if (d.Output.Name == BatchNormOutput.Y)
        {
            candidates.Add(("gate: y wrong only where the ReLU clamps (not applied, leaky, or applied before the affine step)", i => d.Expected[i] == 0));
        }

        foreach (var (line, where) in candidates)
        {
            int explained = d.Damaged.Count(where);
            if (d.Explains(explained))
                return new BugFinding(BugKind.Gate, $"{line}: {explained} elements", explained);
        }

        return null;
    }

    /// <summary>
    /// dbeta or dgamma summed under a wrong gate: at least 90% of the damaged channels hold Σ dy (times xhat for dgamma)
    /// over the elements a wrong gate passes (x &gt; 0; y &gt;= 0; every element), within 1e-5 of the terms' magnitude.
    /// </summary>
    private static BugFinding? PerChannel(Damage d)
    {
        var s = d.Shape;
        var inputs = d.Inputs;
        float[] y = inputs.ForwardY, x = inputs.X;
        var (mean, istd) = d.XhatStatistics();
        bool dgamma = d.Output.Name == BatchNormOutput.DGamma;
        (string Line, Func<int, bool> Passes)[] gates =
        [
            ("the gate reads x instead of the forward's y", i => x[i] > 0),
            ("the gate tests y < 0 and lets a clamped y = 0 through", i => y[i] >= 0),
            ("the gate is not applied", _ => true),
        ];
        foreach (var (line, passes) in gates)
        {
            int explained = 0;
            foreach (int c in d.Damaged)
            {
                double sum = 0, magnitude = 0;
                foreach (int i in s.ChannelOffsets(c))
                {
                    double term = passes(i) ? inputs.Dy[i] * (dgamma ? (x[i] - mean[c]) * istd[c] : 1) : 0;
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                if (Math.Abs(d.Actual[c] - sum) <= (2 * d.Tolerance(c)) + (1e-5 * magnitude))
                    explained++;
            }

            if (d.Explains(explained))
                return new BugFinding(BugKind.Gate, $"gate: {d.Output.Name.Name()} summed under the wrong gate ({line}): {explained} channel(s)", explained);
        }

        return null;
    }
}
