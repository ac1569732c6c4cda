using System.Globalization;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// A sample, a channel or a contiguous run negated or scaled: the group holds at least 90% of the damage, and on its
/// damaged elements (at least 4, not all of one expected value) the kernel's value is one constant between 1e-3 and
/// 1e3 in magnitude times the reference's (within 1e-4 relative and the bound).
/// </summary>
internal static class SignOrScaleDetector
{
    public static BugFinding? Detect(Damage d)
    {
        var s = d.Shape;
        var groups = new List<(string Name, Func<int, long> Key)>();
        if (d.Elementwise)
        {
            groups.Add(("sample n = ", i => s.CoordinatesOf(i).N));
            groups.Add(("channel ", i => s.CoordinatesOf(i).C));
            int runLength = s.Layout == Layout.ChannelsLast || s.S == 1 ? s.C : s.S;
            groups.Add(("contiguous run ", i => i / runLength));
        }
        else
        {
            groups.Add(("every channel", _ => 0));
        }

        foreach (var (name, key) in groups)
        {
            var group = d.Damaged.GroupBy(key).OrderByDescending(g => g.Count()).First();
            int[] members = [.. group.Where(i => float.IsFinite(d.Actual[i]) && double.IsFinite(d.Expected[i]) && d.Expected[i] != 0)];
            // A constant factor needs a few elements with different expected values to be seen: on one element, or on a
            // constant channel, any value is a multiple of the expected one.
            if (!d.Explains(members.Length) || members.Length < 4 || members.Select(i => d.Expected[i]).Distinct().Count() < 2)
                continue;
            double[] ratios = [.. members.Select(i => d.Actual[i] / d.Expected[i]).Order()];
            double factor = ratios[ratios.Length / 2];
            int explained = members.Count(i => Math.Abs(d.Actual[i] - (factor * d.Expected[i])) <= (1e-4 * Math.Abs(factor * d.Expected[i])) + d.Tolerance(i));
            if (!d.Explains(explained) || Math.Abs(factor - 1) < 1e-3 || Math.Abs(factor) < 1e-3 || Math.Abs(factor) > 1e3)
                continue;
            string what = Math.Abs(factor + 1) < 1e-4 ? "negated" : string.Create(CultureInfo.InvariantCulture, $"scaled by {factor:G4}");
            string where = name.EndsWith(' ') ? name + group.Key.ToString(CultureInfo.InvariantCulture) : name;
            return new BugFinding(BugKind.SignOrScale, string.Create(CultureInfo.InvariantCulture, $"{(what == "negated" ? "sign" : "scale")}: {where} {what} ({explained} elements)"), explained);
        }

        return null;
    }
}
