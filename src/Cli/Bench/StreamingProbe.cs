using System.Numerics;

namespace BatchNorm.Cli.Bench;

/// <summary>
/// The roofline's denominator: how fast this process streams arrays of a given size with a given
/// number of threads, measured like the kernels (median of timed runs after warm-up).
/// Reads <c>inputs</c> arrays and writes one, the traffic of the pass it stands beside.
/// </summary>
internal static class StreamingProbe
{
    /// <summary>Bytes per second for out[i] = a[i] (+ b[i]) over <paramref name="length"/> floats.</summary>
    public static double BytesPerSecond(int length, int inputs, int threads, int runs)
    {
        float[] a = new float[length], b = new float[inputs > 1 ? length : 0], result = new float[length];
        a.AsSpan().Fill(1f);
        b.AsSpan().Fill(2f);
        const int chunk = 1 << 16;
        int chunks = (length + chunk - 1) / chunk;
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        void Once() => Parallel.For(0, chunks, options, k =>
        {
            int start = k * chunk, count = Math.Min(chunk, length - start);
            if (inputs == 1)
            {
                a.AsSpan(start, count).CopyTo(result.AsSpan(start, count));
                return;
            }

            var x = a.AsSpan(start, count);
            var y = b.AsSpan(start, count);
            var z = result.AsSpan(start, count);
            int i = 0;
            for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(x[i..]) + new Vector<float>(y[i..])).CopyTo(z[i..]);
            for (; i < count; i++)
                z[i] = x[i] + y[i];
        });
        double seconds = Timing.MedianSeconds(Once, runs);
        return (inputs + 1) * 4.0 * length / seconds;
    }
}
