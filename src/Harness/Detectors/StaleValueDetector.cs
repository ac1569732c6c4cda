using System.Globalization;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// Elements never written or holding a value that belongs elsewhere: at least 90% of the damaged elements are NaN where
/// a finite value belongs (the NaN prefill of an element never written), exactly 0, or bit for bit an input of the same
/// element or channel (x, dy, the forward's y, gamma, beta, the running statistics before the call).
/// </summary>
internal static class StaleValueDetector
{
    public static BugFinding? Detect(Damage d)
    {
        var s = d.Shape;
        int Channel(int i) => d.Elementwise ? s.CoordinatesOf(i).C : i;
        var inputs = d.Inputs;
        var candidates = new List<(string Name, Func<int, float?> Value)>
        {
            ("NaN where a finite value belongs (never written: still the NaN prefill, or a NaN leaked in)", i => float.NaN),
            ("exactly 0", _ => 0f),
        };
        if (d.Elementwise)
        {
            candidates.Add(("x at the same element (an input copied through)", i => inputs.X[i]));
            candidates.Add(("dy at the same element", i => inputs.Dy.Length > i ? inputs.Dy[i] : null));
            candidates.Add(("the forward's y at the same element", i => inputs.ForwardY.Length > i ? inputs.ForwardY[i] : null));
        }
        else
        {
            candidates.Add(("the running mean before the call (not updated)", c => inputs.RunningMean.Length > c ? inputs.RunningMean[c] : null));
            candidates.Add(("the running variance before the call (not updated)", c => inputs.RunningVariance.Length > c ? inputs.RunningVariance[c] : null));
        }

        candidates.Add(("beta of the element's channel", i => inputs.Beta.Length > Channel(i) ? inputs.Beta[Channel(i)] : null));
        candidates.Add(("gamma of the element's channel", i => inputs.Gamma.Length > Channel(i) ? inputs.Gamma[Channel(i)] : null));

        foreach (var (name, value) in candidates)
        {
            int explained = d.Damaged.Count(i => value(i) is { } v && (float.IsNaN(v) ? float.IsNaN(d.Actual[i]) && !double.IsNaN(d.Expected[i]) : BitConverter.SingleToInt32Bits(v) == BitConverter.SingleToInt32Bits(d.Actual[i])));
            if (d.Explains(explained))
                return new BugFinding(BugKind.StaleValue, string.Create(CultureInfo.InvariantCulture, $"stale value: {explained} damaged {(d.Elementwise ? "element" : "channel")}(s) hold {name}"), explained);
        }

        return null;
    }
}
