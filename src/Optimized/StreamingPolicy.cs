namespace BatchNorm.Optimized;

/// <summary>
/// When outputs are stored non-temporally (bypassing the caches; within such an output, runs
/// shorter than <see cref="Loops.Elementwise.MinAlignedRun"/> are stored normally). A call whose
/// data (the tensors it reads and the one it writes) fits in the last-level cache writes through
/// it (over wide channels-last rows, in half of it: <see cref="Streams"/>): the output is then read back from the cache (by the next layer, or the next call of a
/// benchmark), and the inputs a reducing pass reads twice (the reduction, then the apply) stay.
/// A call whose data does not fit gains nothing from the cache on its output, whose lines would
/// only evict the inputs. Which stores are non-temporal changes speed only, never the bits stored.
/// </summary>
internal static class StreamingPolicy
{
    /// <summary>
    /// Calls whose data is at least this large stream: the last-level cache (<see cref="LastLevelCache"/>:
    /// forced, sysfs, CPUID, else 32 MiB), kept within 16 to 64 MiB (the bound also caps the tensor the
    /// streamed-path test has to build and check). Measured on an AMD EPYC with
    /// 32 MiB of L3, 2 threads, against the earlier rule (outputs of 8 MiB or more): the forward
    /// passes of 8x32x112x112 and 64x256x14x14 (12.8 MiB in, 12.8 MiB out) were 10-30% slower
    /// streamed (inference 0.39 against 0.30 ms), those of 32x64x56x56 (25.7 MiB each) 20-35%
    /// faster streamed (inference 1.07 against 1.46 ms), and the backward of 64x256x14x14
    /// channels-last (38.4 MiB) 1.13 of oneDNN's time streamed, 1.36 not.
    /// </summary>
    public static readonly long MinDataBytes = Math.Clamp(LastLevelCache.Bytes, 16L << 20, 64L << 20);

    /// <summary>
    /// True when a call that reads <paramref name="inputTensors"/> tensors of this many floats and
    /// writes one streams: its data is at least <see cref="MinDataBytes"/>, or, over wide
    /// channels-last rows (<see cref="RowsWalkPolicy.IsWide"/>), at least half of it. A wide row's
    /// output vector is stored beside coefficient loads spread over 16·C bytes of table, and while
    /// ordinary stores wait for their lines those loads wait behind them: one thread writing 12.8 MiB
    /// over 256 channels took 10-14 cycles a vector stored normally against 7.5-8 streamed, where 32
    /// channels took 7-9 against 7. In one process, 2 threads, streamed against not: 64x256x14x14
    /// channels-last training forward 1.04-1.23 -> 0.82-0.89 ms, inference 0.56-0.76 -> 0.52-0.54;
    /// 32x128x28x28 0.91-1.00 -> 0.77-0.80 and 0.60-0.67 -> 0.51-0.52; the same 12.8 MiB over 32
    /// channels (8x32x112x112) or channels-first was 0-20% slower streamed, so they keep the full bound.
    /// </summary>
    public static bool Streams(long elements, int inputTensors, bool wideRows) =>
        DataBytes(elements, inputTensors) >= (wideRows ? MinDataBytes / 2 : MinDataBytes);

    /// <summary>
    /// True when a call's data fits in half the last-level cache: what it reads in a reduction is then
    /// still there for the apply, and between calls (the other half holds whatever else runs).
    /// </summary>
    public static bool Cached(long elements, int inputTensors) => DataBytes(elements, inputTensors) < MinDataBytes / 2;

    /// <summary>The bytes of a call's tensors: the ones it reads and the one it writes.</summary>
    private static long DataBytes(long elements, int inputTensors) => (inputTensors + 1) * elements * sizeof(float);
}
