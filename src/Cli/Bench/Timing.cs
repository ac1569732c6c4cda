using System.Diagnostics;

namespace BatchNorm.Cli.Bench;

/// <summary>Wall times of repeated calls: the median of one action, or two actions interleaved round by round.</summary>
internal static class Timing
{
    /// <summary>Untimed calls each participant makes right before its timed call in a round, so it is timed warm, as in back-to-back layers (at least this many, and for at least <see cref="WarmMillisecondsPerRound"/>).</summary>
    public const int WarmCallsPerRound = 2;

    /// <summary>
    /// How long each participant's untimed calls in a round last at least. After the pause between
    /// participants the machine needs a few milliseconds to come back to speed, whoever runs: one
    /// thread of the 64x256x14x14 channels-last inference forward took 1.43, 1.26, 1.14, 1.09, 1.07
    /// ms in the five calls after a 60 ms pause, against 1.0 back to back (AMD EPYC, KVM). A fixed
    /// count of warm calls gives a participant warm-up in proportion to its own speed, so the faster
    /// one was timed on a colder machine: with 2 calls, 64x256x14x14 channels-last inference measured
    /// 0.96-1.03 of PyTorch's time; with 5 ms for every participant, 0.62-0.99.
    /// </summary>
    public const double WarmMillisecondsPerRound = 5;

    /// <summary>
    /// The pause between participants: longer than OpenMP's threads (oneDNN's, PyTorch's) and the
    /// fork-join helpers spin after a call, so no participant's spinning threads take the cores
    /// from the next one's timed call. Without it, interleaving oneDNN and PyTorch with ours on two
    /// cores made every figure 5 to 30 times slower.
    /// </summary>
    public const int QuiesceMilliseconds = 60;

    /// <summary>
    /// Times participants round by round (each in turn: untimed calls, at least <see cref="WarmCallsPerRound"/>
    /// of them and for at least <see cref="WarmMillisecondsPerRound"/>, one timed call, then a pause of
    /// <see cref="QuiesceMilliseconds"/>), after they were warmed up, so
    /// slow and fast periods of a shared machine fall on all alike; returns each round's seconds for
    /// each participant. A participant is a timer of one call.
    /// </summary>
    public static double[][] Rounds(IReadOnlyList<Func<double>> participants, int rounds)
    {
        double[][] seconds = participants.Select(_ => new double[rounds]).ToArray();
        for (int i = 0; i < rounds; i++)
        {
            for (int p = 0; p < participants.Count; p++)
            {
                long warm = Stopwatch.GetTimestamp();
                for (int w = 0; w < WarmCallsPerRound || Stopwatch.GetElapsedTime(warm).TotalMilliseconds < WarmMillisecondsPerRound; w++)
                    participants[p]();
                seconds[p][i] = participants[p]();
                if (participants.Count > 1)
                    Thread.Sleep(QuiesceMilliseconds);
            }
        }

        return seconds;
    }

    /// <summary>The median of the values (sorted copy; the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values) => Quantile(values, 0.5);

    /// <summary>The q-quantile by linear interpolation between order statistics.</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        double[] sorted = values.Order().ToArray();
        double at = q * (sorted.Length - 1);
        int low = (int)Math.Floor(at);
        return low + 1 < sorted.Length ? sorted[low] + ((at - low) * (sorted[low + 1] - sorted[low])) : sorted[low];
    }

    /// <summary>
    /// Long enough for tiered compilation to settle: the runtime waits 100 ms without new methods
    /// before it counts calls, then compiles the hot ones in the background, so a cell timed after
    /// 100 ms of warm-up measured unoptimized glue code (0.33 ms instead of 0.09 ms for the 1 MiB
    /// inference forward when that cell ran first).
    /// </summary>
    public const int WarmUpMilliseconds = 500;

    /// <summary>Calls the timer at least 50 times and for <see cref="WarmUpMilliseconds"/>.</summary>
    public static void WarmUp(Func<double> once)
    {
        long warmUp = Stopwatch.GetTimestamp();
        for (int i = 0; i < 50 || Stopwatch.GetElapsedTime(warmUp).TotalMilliseconds < WarmUpMilliseconds; i++)
            once();
    }

    /// <summary>The timer of one call of <paramref name="action"/>, in seconds.</summary>
    public static Func<double> Timer(Action action) => () =>
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    };

    /// <summary>Calls <paramref name="action"/> to warm up (at least 50 times and <see cref="WarmUpMilliseconds"/>, so tiered compilation has settled), then <paramref name="runs"/> times, timing each; returns the median in seconds.</summary>
    public static double MedianSeconds(Action action, int runs)
    {
        var once = Timer(action);
        WarmUp(once);
        return Median(Enumerable.Range(0, runs).Select(_ => once()).ToArray());
    }
}

