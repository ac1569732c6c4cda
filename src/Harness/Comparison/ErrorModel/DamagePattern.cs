using System.Globalization;

namespace BatchNorm.Harness.Comparison.ErrorModel;

/// <summary>
/// Names the pattern of the elements whose residual broke its bound, in terms of the loops that
/// write them: a contiguous run is the innermost loop's range (the S positions of one (n, c) in
/// channels-first, the C channels of one (n, s) row in channels-last). A bug in a tail, a lane, a
/// stride or a channel offset leaves a pattern here; rounding does not.
/// </summary>
internal static class DamagePattern
{
    private static readonly int[] Lanes = [16, 8, 4];

    /// <summary>One line describing where the flagged elements are (empty input: "none").</summary>
    public static string Describe(in TensorShape shape, IReadOnlyCollection<int> flagged)
    {
        if (flagged.Count == 0)
            return "none";
        var s = shape;
        var at = flagged.Select(i => Position.Of(s, i)).ToArray();
        var channels = at.Select(p => p.C).Distinct().Order().ToArray();
        string where = channels.Length == 1 ? $"channel {channels[0]}" : $"{channels.Length} channels ({List(channels)})";
        int count = at.Length;

        if (Tail(shape, at, where) is { } tail)
            return tail;
        int runLength = at[0].RunLength;

        // Every element (or nearly) of some channels: a channel offset, a wrong coefficient slot.
        var whole = channels.Where(c => at.Count(p => p.C == c) * 2 > s.M).ToArray();
        if (whole.Length == channels.Length && count >= 2)
            return Invariant($"most elements of {(whole.Length == 1 ? $"channel {whole[0]}" : $"{whole.Length} channels ({List(whole)})")}: {count} elements (a channel's offset, coefficients or loop bound)");

        if (count >= 3)
        {
            foreach (int lanes in Lanes)
            {
                if (runLength > lanes && at.Select(p => p.InRun % lanes).Distinct().Count() == 1)
                    return Invariant($"one lane: position {at[0].InRun % lanes} mod {lanes} of each contiguous run: {count} elements, {where}");
                if (channels.Length == 1 && s.M > lanes && at.Select(p => p.K % lanes).Distinct().Count() == 1)
                    return Invariant($"one lane: every {Ordinal(lanes)} element of channel {channels[0]} (element {at[0].K % lanes} mod {lanes} in the channel's order): {count} elements");
                if (at.Select(p => p.Flat % lanes).Distinct().Count() == 1)
                    return Invariant($"one lane: flat index {at[0].Flat % lanes} mod {lanes}: {count} elements, {where}");
            }
        }

        var samples = at.Select(p => p.N).Distinct().Order().ToArray();
        if (count >= 2 && s.N > 1 && samples.Length == 1)
            return Invariant($"one sample: n = {samples[0]}: {count} elements, {where}");
        if (count >= 4 && s.N > 3 && samples.Length <= 3)
            return Invariant($"{samples.Length} samples: n = {string.Join(", ", samples)}: {count} elements, {where}");
        if (count >= 2 && channels.Length == 1)
            return Invariant($"{count} scattered elements of channel {channels[0]}");
        return Invariant($"{count} isolated element{(count == 1 ? "" : "s")}, {where}");
    }

    /// <summary>
    /// The flagged elements as the end of contiguous runs (a vector loop's tail, every k-th of it for a tail with a wrong
    /// stride), or null when they are not: fewer than 16, and at most half of a run of 16 or more. A run no longer than
    /// a vector is all tail, so there one position alone is a channel, not a tail.
    /// </summary>
    public static string? Tail(in TensorShape shape, IReadOnlyCollection<int> flagged)
    {
        var s = shape;
        var at = flagged.Select(i => Position.Of(s, i)).ToArray();
        var channels = at.Select(p => p.C).Distinct().Order().ToArray();
        return at.Length == 0 ? null : Tail(shape, at, channels.Length == 1 ? $"channel {channels[0]}" : $"{channels.Length} channels ({List(channels)})");
    }

    private static string? Tail(in TensorShape shape, Position[] at, string where)
    {
        var s = shape;
        int count = at.Length, runLength = at[0].RunLength;
        int runs = at.Select(p => p.Run).Distinct().Count();
        int maxFromEnd = at.Max(p => p.FromEnd);
        int positions = at.Select(p => p.InRun).Distinct().Count();
        int step = Step(at.Select(p => p.FromEnd).Distinct().Order().ToArray());
        // A remainder is shorter than a vector, and in a run of a vector or more, no longer than the vector body before
        // it: damage reaching over half such a run is not a tail. A shorter run is all remainder, so there a contiguous
        // end is a tail; a strided one over more than half the run is a stride, not a tail.
        bool shortEnough = runLength < 16 && step == 1 ? maxFromEnd + 1 < runLength : 2 * (maxFromEnd + 1) <= runLength;
        if (!(count >= 2 && maxFromEnd < Math.Min(16, runLength) && shortEnough && (positions >= 2 || runLength > 16)))
            return null;
        string unit = shape.Layout == Layout.ChannelsLast && shape.S > 1 ? "channels of channels-last rows" : "elements of contiguous runs";
        string stride = step > 1 ? Invariant($"every {Ordinal(step)} of ") : "";
        return Invariant($"{stride}the last {maxFromEnd + 1} {unit} (a vector tail): {count} elements in {runs} of {s.N * (long)s.C * s.S / runLength} runs, {where}");
    }

    /// <summary>The common difference of sorted distinct positions when they step evenly, else 1.</summary>
    private static int Step(int[] sorted)
    {
        if (sorted.Length < 2)
            return 1;
        int step = sorted[1] - sorted[0];
        for (int k = 2; k < sorted.Length; k++)
        {
            if (sorted[k] - sorted[k - 1] != step)
                return 1;
        }

        return step;
    }

    private static string Ordinal(int n) => n switch { 2 => "2nd", 3 => "3rd", _ => $"{n}th" };

    private static string List(int[] values) =>
        values.Length <= 8 ? string.Join(", ", values) : string.Join(", ", values.Take(8)) + ", ...";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Where a flat index sits: its coordinates, its contiguous run, and its place in the run.</summary>
    /// <param name="N">Sample.</param>
    /// <param name="C">Channel.</param>
    /// <param name="S">Spatial position.</param>
    /// <param name="Flat">Index in memory.</param>
    /// <param name="Run">Which contiguous run holds it.</param>
    /// <param name="InRun">Its place in the run.</param>
    /// <param name="FromEnd">Elements after it in the run.</param>
    /// <param name="RunLength">The run's length.</param>
    /// <param name="K">The element's place in its channel's logical order, n·S + s.</param>
    private readonly record struct Position(int N, int C, int S, int Flat, long Run, int InRun, int FromEnd, int RunLength, long K)
    {
        public static Position Of(in TensorShape shape, int flat)
        {
            var (n, c, s) = shape.CoordinatesOf(flat);
            // Channels-first runs are the S positions of one (n, c); channels-last runs (and any
            // S = 1 tensor) are the C channels of one row.
            bool rowsOfChannels = shape.Layout == Layout.ChannelsLast || shape.S == 1;
            int length = rowsOfChannels ? shape.C : shape.S;
            int inRun = rowsOfChannels ? c : s;
            return new Position(n, c, s, flat, flat / length, inRun, length - 1 - inRun, length, ((long)n * shape.S) + s);
        }
    }
}
