using System.Diagnostics;

namespace BatchNorm.Cli.Bench;

/// <summary>Median wall time of repeated calls.</summary>
internal static class Timing
{
    /// <summary>Calls <paramref name="action"/> to warm up (at least 3 times and 100 ms, so tiered compilation has settled), then <paramref name="runs"/> times, timing each; returns the median in seconds.</summary>
    public static double MedianSeconds(Action action, int runs)
    {
        long warmUp = Stopwatch.GetTimestamp();
        for (int i = 0; i < 3 || Stopwatch.GetElapsedTime(warmUp).TotalMilliseconds < 100; i++)
            action();
        double[] seconds = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(seconds);
        return runs % 2 == 1 ? seconds[runs / 2] : (seconds[runs / 2 - 1] + seconds[runs / 2]) / 2;
    }
}
