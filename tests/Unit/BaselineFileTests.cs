using System.Text.Json.Nodes;
using BatchNorm.Harness;
using BatchNorm.Harness.Ratchet;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>The accuracy baseline as data that is never lost: partial re-baselines, failed writes, special files.</summary>
public sealed class BaselineFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("bnverify-baseline-").FullName;

    private static string Committed => Path.Combine(Bnverify.RepositoryRoot(), AccuracyBaseline.FileName);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>
    /// One case, one shard, and the relu cases re-baselined in turn: every other recorded case of every kernel stays
    /// as it was, bit for bit, and the cases re-run are recorded again with the same figures (the kernel is deterministic).
    /// </summary>
    [Fact]
    public void PartialReBaselinesKeepEveryOtherEntryBitForBit()
    {
        string copy = Path.Combine(folder, "baseline.json");
        File.Copy(Committed, copy);
        foreach (string[] partial in new[] { new[] { "--case", "normal/nchw/train" }, ["--shard", "3/4"], ["--activation", "relu", "--case", "relu/dense"] })
        {
            var run = Bnverify.Run(["verify", "--update-baseline", "--baseline", copy, .. partial]);
            Assert.True(run.ExitCode == 0, run.Output + run.Error);
            Assert.Contains("its other recorded cases are kept", run.Output);
        }

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Committed)), JsonNode.Parse(File.ReadAllText(copy))),
            "a partial re-baseline changed what it did not run (or the kernel's errors moved)");
        Assert.Equal(File.ReadAllText(Committed), File.ReadAllText(copy));
    }

    /// <summary>A target that is a directory or a device, or a folder that is not there, is refused with nothing written anywhere; a regular target is replaced whole.</summary>
    [Fact]
    public void ARefusedOrFailedWriteLeavesNothingBehindAndARegularTargetIsReplacedWhole()
    {
        string target = Path.Combine(folder, "report.json");
        File.WriteAllText(target, "old");
        string directoryAsTarget = Directory.CreateDirectory(Path.Combine(folder, "a-directory")).FullName;
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(directoryAsTarget, "new"));
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write("/dev/null", "new"));
        // The temporary file cannot be created (no such folder): nothing is written anywhere.
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(Path.Combine(folder, "no-such-folder", "report.json"), "new"));
        AtomicFile.Write(target, "new");
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal(["a-directory", "report.json"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
