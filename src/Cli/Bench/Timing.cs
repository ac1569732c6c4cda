using System.Diagnostics;

namespace BatchNorm.Cli.Bench;

/// <summary>Wall times of repeated calls: the median of one action, or two actions interleaved round by round.</summary>
internal static class Timing
{
    /// <summary>
    /// Times two actions round by round (a, b, a, b, ...) after warming both up, so slow and fast
    /// periods of a shared machine fall on both alike; returns each round's seconds for each.
    /// </summary>
    public static (double[] A, double[] B) Interleaved(Action a, Action b, int rounds)
    {
        WarmUp(a);
        WarmUp(b);
        double[] first = new double[rounds], second = new double[rounds];
        for (int i = 0; i < rounds; i++)
        {
            first[i] = Once(a);
            second[i] = Once(b);
        }

        return (first, second);
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

    private static void WarmUp(Action action)
    {
        long warmUp = Stopwatch.GetTimestamp();
        for (int i = 0; i < 50 || Stopwatch.GetElapsedTime(warmUp).TotalMilliseconds < WarmUpMilliseconds; i++)
            action();
    }

    private static double Once(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Calls <paramref name="action"/> to warm up (at least 50 times and <see cref="WarmUpMilliseconds"/>, so tiered compilation has settled), then <paramref name="runs"/> times, timing each; returns the median in seconds.</summary>
    public static double MedianSeconds(Action action, int runs)
    {
        WarmUp(action);
        return Median(Enumerable.Range(0, runs).Select(_ => Once(action)).ToArray());
    }
}
