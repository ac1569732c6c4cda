namespace BatchNorm.Harness.Benchmarks;

/// <summary>
/// Whether a participant's time in a benchmark cell depended on where in the cell it was taken: the median of its
/// first third of rounds over the median of its last third, and whether the two thirds' times do not overlap at all
/// (every time of one third below every time of the other). At 21 rounds, 7 against 7, a participant whose rounds
/// are exchangeable is flagged by chance with probability 2 / C(14, 7) = 1/1716; one in a sitting of 108 timed
/// computations in about 6% of sittings. (Asking only that the first median lie outside the last third's range
/// flags 2 C(10, 3) / C(14, 7) = 7% of exchangeable participants: several a sitting.) A helper that sped up or
/// slowed down as the cell went on, or a machine that changed pace, shows here; since every participant is timed
/// in every round, a ratio stays fair when the drift is the machine's (all participants drift alike).
/// </summary>
/// <param name="Ratio">The median of the first third of rounds over that of the last third: above 1, it sped up.</param>
/// <param name="Outside">True when the first third's times and the last third's do not overlap.</param>
internal readonly record struct RoundDrift(double Ratio, bool Outside)
{
    /// <summary>
    /// The drift of one participant's round times, in order (at least 2; thirds of at least one round). The
    /// median of a third is the middle value (the mean of the middle two for an even count); NaN times give NaN.
    /// </summary>
    public static RoundDrift Of(IReadOnlyList<double> rounds)
    {
        if (rounds.Count < 2)
            throw new ArgumentException($"rounds: {rounds.Count} given; a drift needs at least 2", nameof(rounds));
        int third = Math.Max(1, rounds.Count / 3);
        double[] first = [.. rounds.Take(third)], last = [.. rounds.TakeLast(third)];
        return new RoundDrift(Median(first) / Median(last), first.Max() < last.Min() || first.Min() > last.Max());
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
