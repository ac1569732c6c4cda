using System.Globalization;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// A reduced-precision store rounded the wrong way: at least 90% of the damaged elements are within one gap of the
/// format from the reference and all on one side of it: below in magnitude (truncated toward zero), or above, or
/// below in value (rounded down), where rounding to nearest even is off by at most half a gap.
/// </summary>
internal static class RoundingDirectionDetector
{
    public static BugFinding? Detect(Damage d)
    {
        var precision = d.Output.Precision;
        if (precision == DataPrecision.Float32 || !d.Elementwise)
            return null;
        int[] finite = [.. d.Damaged.Where(i => float.IsFinite(d.Actual[i]) && double.IsFinite(d.Expected[i]))];
        bool WithinGap(int i) => Math.Abs(d.Actual[i] - d.Expected[i]) <= DataPrecisions.WidestGap(d.Actual[i], precision) + d.Output.Bounds[i];
        (string Name, Func<int, bool> Side)[] directions =
        [
            ("toward zero (truncated) instead of to nearest even", i => Math.Abs(d.Actual[i]) < Math.Abs(d.Expected[i]) && Math.Sign(d.Actual[i]) != -Math.Sign(d.Expected[i])),
            ("away from zero instead of to nearest even", i => Math.Abs(d.Actual[i]) > Math.Abs(d.Expected[i]) && Math.Sign(d.Actual[i]) != -Math.Sign(d.Expected[i])),
            ("down (toward -infinity) instead of to nearest even", i => d.Actual[i] < d.Expected[i]),
            ("up (toward +infinity) instead of to nearest even", i => d.Actual[i] > d.Expected[i]),
        ];
        foreach (var (name, side) in directions)
        {
            int explained = finite.Count(i => side(i) && WithinGap(i));
            if (d.Explains(explained))
            {
                return new BugFinding(BugKind.RoundingDirection, string.Create(CultureInfo.InvariantCulture,
                    $"rounding: {explained} elements rounded {name}, each within one {precision.ShortName()} gap of the reference"), explained);
            }
        }

        return null;
    }
}
