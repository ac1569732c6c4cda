using System.Diagnostics;

namespace BatchNorm.Cli.Bench;

/// <summary>Median wall time of repeated calls.</summary>
internal static class Timing
{
    /// <summary>Calls <paramref name="action"/> twice to warm up, then <paramref name="runs"/> times, timing each; returns the median in seconds.</summary>
    public static double MedianSeconds(Action action, int runs)
    {
        action();
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
