using System.Globalization;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// Every k-th element wrong (k = 2, 3, 4, 8, 16: a store or load stepping by the wrong stride, a lane of a vector):
/// one residue of the index mod k, in memory order or in each contiguous run, holds at least 90% of the damage, and at
/// least 80% of the elements of that residue in the damaged runs are damaged. The smallest such k is named.
/// </summary>
internal static class StrideDetector
{
    private static readonly int[] Strides = [2, 3, 4, 8, 16];

    public static BugFinding? Detect(Damage d)
    {
        if (!d.Elementwise || d.Damaged.Length < 4)
            return null;
        var s = d.Shape;
        bool rowsOfChannels = s.Layout == Layout.ChannelsLast || s.S == 1;
        int runLength = rowsOfChannels ? s.C : s.S;
        var runs = d.Damaged.Select(i => i / runLength).Distinct().ToArray();
        if (WholeChannels(d))
            return null;
        foreach (int k in Strides)
        {
            foreach (var (key, name) in new (Func<int, int> Key, string Name)[] { (i => i, "memory order"), (i => i % runLength, "each contiguous run") })
            {
                // Within runs, a stride needs at least two of its elements in each run to be one.
                if (name != "memory order" && 2 * k > runLength)
                    continue;
                var byResidue = d.Damaged.GroupBy(i => key(i) % k).OrderByDescending(g => g.Count()).First();
                int residue = byResidue.Key, count = byResidue.Count();
                if (!d.Explains(count))
                    continue;
                long members = runs.Sum(r => Enumerable.Range(r * runLength, runLength).Count(i => key(i) % k == residue));
                if (count < 0.8 * members)
                    continue;
                return new BugFinding(BugKind.Stride, string.Create(CultureInfo.InvariantCulture,
                    $"stride: every {Ordinal(k)} element wrong (index {residue} mod {k} in {name}): {count} of the {members} such elements in {runs.Length} run(s) damaged{Unwritten(d, byResidue)}"),
                    count);
            }
        }

        return null;
    }

    /// <summary>
    /// Damage that is most of one channel: in channels-last memory a channel is every C-th element, which is a
    /// channel's bug (its offset, its coefficients), not a stride. Every k-th element over several channels is a stride.
    /// </summary>
    private static bool WholeChannels(Damage d)
    {
        var s = d.Shape;
        var byChannel = d.Damaged.GroupBy(i => s.CoordinatesOf(i).C).ToArray();
        return byChannel.Length == 1 && byChannel[0].Count() * 2 > s.M;
    }

    private static string Unwritten(Damage d, IEnumerable<int> elements) =>
        elements.All(i => float.IsNaN(d.Actual[i])) ? ", never written (still the NaN prefill)" : "";

    private static string Ordinal(int n) => n switch { 2 => "2nd", 3 => "3rd", _ => $"{n}th" };
}
