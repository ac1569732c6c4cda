using System.Globalization;
using BatchNorm.Harness.Comparison.ErrorModel;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// A vector loop's remainder skipped or stepped wrong. Three shapes of it: the last few elements of contiguous runs
/// (<see cref="DamagePattern.Tail(in TensorShape, IReadOnlyCollection{int})"/>, the pattern line the report has always
/// given); the last few elements of each sample's block or of the whole tensor (a loop over a channels-last block or
/// the flat tensor, which has one remainder); and runs shorter than a vector left unwritten whole (all remainder).
/// </summary>
internal static class TailDetector
{
    /// <summary>The widest vector, in floats: a remainder is shorter.</summary>
    private const int Vector = 16;

    public static BugFinding? Detect(Damage d)
    {
        if (!d.Elementwise)
            return null;
        if (DamagePattern.Tail(d.Shape, d.Damaged) is { } line)
            return new BugFinding(BugKind.Tail, $"tail: {line}", d.Damaged.Length);
        return BlockTail(d) ?? ShortRuns(d);
    }

    private static BugFinding? BlockTail(Damage d)
    {
        var s = d.Shape;
        foreach (var (block, name) in new[] { (s.C * s.S, "sample's block"), (s.ElementCount, "tensor") })
        {
            int last = d.Damaged.Max(i => block - 1 - (i % block));
            if (block < 2 || 2 * (last + 1) > block || last >= Vector)
                continue;
            int blocks = d.Damaged.Select(i => i / block).Distinct().Count();
            return new BugFinding(BugKind.Tail, string.Create(CultureInfo.InvariantCulture,
                $"tail: the last {last + 1} elements of {(name == "tensor" ? "the flat tensor" : $"{blocks} of {s.N} samples' blocks")} (a vector loop's remainder): {d.Damaged.Length} elements"), d.Damaged.Length);
        }

        return null;
    }

    private static BugFinding? ShortRuns(Damage d)
    {
        var s = d.Shape;
        int runLength = s.Layout == Layout.ChannelsLast || s.S == 1 ? s.C : s.S;
        if (runLength < 2 || runLength >= Vector || !d.Damaged.All(i => float.IsNaN(d.Actual[i])))
            return null;
        var runs = d.Damaged.GroupBy(i => i / runLength).ToArray();
        if (runs.Length < 2 || runs.Any(r => r.Count() != runLength))
            return null;
        return new BugFinding(BugKind.Tail, string.Create(CultureInfo.InvariantCulture,
            $"tail: {runs.Length} whole runs of {runLength} elements, shorter than a vector, never written (the remainder loop did not run)"), d.Damaged.Length);
    }
}
