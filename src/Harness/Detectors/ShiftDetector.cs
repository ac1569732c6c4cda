using System.Globalization;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// Values displaced along memory order: at least 90% of the damaged elements hold, within their bounds, the value the
/// reference has k elements earlier or later (k = 1 to 4, 8, 16, a run, a row of channels, a sample), an offset off by
/// k. For a per-channel output, k = ±1 is a neighbouring channel's value.
/// </summary>
internal static class ShiftDetector
{
    public static BugFinding? Detect(Damage d)
    {
        if (d.Damaged.Length < 2 && d.Elementwise)
            return null;
        var s = d.Shape;
        int[] steps = d.Elementwise ? [.. new[] { 1, 2, 3, 4, 8, 16, s.S, s.C, s.C * s.S }.Where(k => k > 0 && k < d.Actual.Length).Distinct()] : [1];
        BugFinding? best = null;
        foreach (int step in steps)
        {
            foreach (int k in new[] { step, -step })
            {
                // The displaced value must be another value: where the reference is the same k elements away (a constant
                // channel, a row of one channel), any small error would read as a shift.
                int explained = d.Damaged.Count(i => i - k >= 0 && i - k < d.Actual.Length && float.IsFinite(d.Actual[i]) && d.Matches(d.Actual[i], i - k, i)
                                                    && Math.Abs(d.Expected[i - k] - d.Expected[i]) > d.Tolerance(i) + d.Tolerance(i - k));
                if (!d.Explains(explained) || (best is not null && explained <= best.Explained))
                    continue;
                string unit = !d.Elementwise ? "channel" : "element";
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"shift: {explained} {unit}(s) hold the value the reference has {Math.Abs(k)} {unit}(s) {(k > 0 ? "earlier" : "later")} in memory{Meaning(d, Math.Abs(k))} (an offset off by {k})");
                best = new BugFinding(BugKind.Shift, line, explained);
            }
        }

        return best;
    }

    private static string Meaning(Damage d, int k) =>
        !d.Elementwise ? " (a neighbouring channel's value)"
        : k == d.Shape.C && (d.Shape.Layout == Layout.ChannelsLast || d.Shape.S == 1) ? " (a whole channels-last row)"
        : k == d.Shape.S && d.Shape.Layout == Layout.ChannelsFirst ? " (a whole run of one channel)"
        : k == d.Shape.C * d.Shape.S ? " (a whole sample)"
        : "";
}
