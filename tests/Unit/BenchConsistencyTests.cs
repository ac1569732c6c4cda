using System.Text.Json.Nodes;
using BatchNorm.Harness.Benchmarks;
using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// What makes a bench figure trustworthy beyond its check: a participant whose time depended on when in the cell it was
/// taken is named, and the cache size the speed policies assumed is printed and can be forced.
/// </summary>
public class BenchConsistencyTests
{
    /// <summary>A helper that was slow for its first rounds (PyTorch's first calls after a cell was built) is flagged; its ratio says how much.</summary>
    [Fact]
    public void ATimeThatSettlesAfterTheFirstRoundsIsFlagged()
    {
        double[] rounds = [.. Enumerable.Repeat(24e-3, 7), .. Enumerable.Repeat(0.9e-3, 7), .. Enumerable.Repeat(1.0e-3, 7)];
        var drift = RoundDrift.Of(rounds);
        Assert.True(drift.Outside);
        Assert.Equal(24.0, drift.Ratio, 12);
    }

    /// <summary>A time that got slower (a machine that changed pace) is flagged too.</summary>
    [Fact]
    public void ATimeThatSlowsDownIsFlagged() =>
        Assert.True(RoundDrift.Of([1.0, 1.1, 1.0, 1.05, 1.2, 1.3, 1.4, 2.0, 2.1, 2.2]).Outside);

    /// <summary>Noisy but exchangeable rounds whose thirds overlap, even by one value, are not flagged.</summary>
    [Fact]
    public void OverlappingThirdsAreNotFlagged()
    {
        var drift = RoundDrift.Of([1.0, 1.3, 1.1, 5.0, 0.2, 1.2, 0.9, 1.25, 1.05]);
        Assert.False(drift.Outside);
        Assert.Equal(1.1 / 1.05, drift.Ratio, 12);
        Assert.False(RoundDrift.Of([1.0, 1.1, 1.2, 0.5, 0.5, 0.5, 1.2, 1.3, 1.4]).Outside); // 1.2 in both thirds
    }

    [Fact]
    public void ADriftNeedsTwoRounds() =>
        Assert.Contains("rounds: 1 given", Assert.Throws<ArgumentException>(() => RoundDrift.Of([1.0])).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("32768K", 32L << 20)]
    [InlineData("16M", 16L << 20)]
    [InlineData("1048576", 1L << 20)]
    [InlineData("16 M", 0)]
    [InlineData("-1", 0)]
    [InlineData("big", 0)]
    [InlineData("1.5M", 0)]
    public void CacheSizesReadAsSysfsWritesThem(string text, long bytes) => Assert.Equal(bytes, LastLevelCache.ParseSize(text));

    /// <summary>
    /// Where sysfs lists no cache sizes (a guest that hides them), CPUID still describes the caches on x86: on a machine
    /// that has both, they agree, so the fallback reads the same size sysfs would.
    /// </summary>
    [Fact]
    public void CpuidReadsTheSameLastLevelCacheAsSysfs()
    {
        long sysfs = LastLevelCache.FromSysfs(), cpuid = LastLevelCache.FromCpuid();
        Assert.True(System.Runtime.Intrinsics.X86.X86Base.IsSupported ? cpuid > 0 : cpuid == 0, $"CPUID gave {cpuid} bytes");
        if (sysfs > 0 && cpuid > 0)
            Assert.Equal(sysfs, cpuid);
        Assert.NotEqual(CacheSizeSource.Assumed, LastLevelCache.Source);
    }

    /// <summary>A forced size is what the policies use and what bench reports, so a sitting can be measured as on a machine with another cache.</summary>
    [Fact]
    public void AForcedCacheSizeIsUsedAndReported()
    {
        var run = Bnverify.RunWith(new Dictionary<string, string> { [LastLevelCache.Variable] = "16M" },
            "bench", "--kernel", "optimized", "--shape", "64x50", "--layout", "nchw", "--pass", "fwd_infer", "--runs", "11", "--format", "jsonl", "--anchor", "none");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("16 MiB (forced)", (string)JsonNode.Parse(run.Output.Trim())!["llc"]!);
    }

    /// <summary>
    /// A tuned cell names the policy it ran and what that was chosen on: each candidate's median ms, the policy run among
    /// them. 64x50's 25.6 KB of inference data is an eighth of a forced 64 KiB cache, so it is tuned.
    /// </summary>
    [Fact]
    public void ATunedCellReportsItsPolicyAndTheFiguresItWasChosenOn()
    {
        var run = Bnverify.RunWith(new Dictionary<string, string> { [LastLevelCache.Variable] = "64K" },
            "bench", "--kernel", "optimized", "--shape", "64x50", "--layout", "nchw", "--pass", "fwd_infer", "--runs", "11", "--format", "jsonl", "--anchor", "none");
        Assert.True(run.ExitCode == 0, run.Error);
        var row = JsonNode.Parse(run.Output.Trim())!;
        string policy = (string)row["policy"]!.AsArray().Single()!;
        var figures = row["tuning"]!.AsArray().Single()!.AsArray();
        Assert.Equal(["cached/Columns", "streamed/Columns"], figures.Select(f => (string)f!["policy"]!).Order());
        Assert.Contains(policy, figures.Select(f => (string)f!["policy"]!));
        Assert.All(figures, f => Assert.True((double)f!["ms"]! > 0, f!.ToJsonString()));
    }

    /// <summary>A forced size that is no size is refused before anything runs, naming the variable, the value and the rule.</summary>
    [Fact]
    public void AForcedCacheSizeThatIsNoSizeIsExit2()
    {
        var run = Bnverify.RunWith(new Dictionary<string, string> { [LastLevelCache.Variable] = "lots" }, "verify", "--case", "normal/nchw/train");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"{LastLevelCache.Variable}=lots: must be a positive number of bytes, optionally with a K or M suffix (e.g. 16M)", run.Error.Trim());
        Assert.Equal("", run.Output);
    }
}
