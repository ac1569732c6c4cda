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

    /// <summary>A target that is a directory or a device is refused with nothing written anywhere; a regular target is replaced whole.</summary>
    [Fact]
    public void ARefusedWriteLeavesNothingBehindAndARegularTargetIsReplacedWhole()
    {
        string target = Path.Combine(folder, "report.json");
        File.WriteAllText(target, "old");
        string directoryAsTarget = Directory.CreateDirectory(Path.Combine(folder, "a-directory")).FullName;
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(directoryAsTarget, "new"));
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write("/dev/null", "new"));
        AtomicFile.Write(target, "new");
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal(["a-directory", "report.json"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A re-baseline interrupted at each of its file system steps in turn (the temporary file half written as on a full
    /// disk, the move refused) leaves the old baseline bit for bit and nothing beside it; past the last step it is
    /// written whole. The count of steps is asserted, so a write that skipped one would fail here.
    /// </summary>
    [Fact]
    public void AReBaselineInterruptedAtEveryStepLeavesTheOldFileIntact()
    {
        string path = Path.Combine(folder, "baseline.json");
        File.Copy(Committed, path);
        byte[] before = File.ReadAllBytes(path);
        var baseline = AccuracyBaseline.Load(path);
        baseline.Record(Suite.Quick, "optimized", 1, NumericalContract.Default, [], replace: true);
        int steps = 0;
        for (int failAt = 1; ; failAt++)
        {
            var interrupted = new InterruptedSteps(failAt);
            try
            {
                baseline.Save(path, interrupted);
            }
            catch (IOException)
            {
                Assert.Equal(before, File.ReadAllBytes(path));
                Assert.Equal(["baseline.json"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
                continue;
            }

            steps = failAt - 1;
            break;
        }

        Assert.Equal(2, steps);   // the temporary file, then the move
        Assert.NotEqual(before, File.ReadAllBytes(path));
        Assert.Equal(1, (int)JsonNode.Parse(File.ReadAllText(path))!["quick"]!["optimized"]!["seed"]!);
    }

    /// <summary>
    /// Three reports, one into a folder that does not exist yet, interrupted at each step: before the moves no target
    /// changes and the new folders are gone again; past the last step all three are written.
    /// </summary>
    [Fact]
    public void ReportsAreWrittenAllOrNone()
    {
        string[] targets = [Path.Combine(folder, "r.json"), Path.Combine(folder, "new", "deeper", "r.xml"), Path.Combine(folder, "r.md")];
        File.WriteAllText(targets[0], "old json");
        File.WriteAllText(targets[2], "old markdown");
        (string, string)[] files = [.. targets.Select(t => (t, "new " + Path.GetExtension(t)))];
        // Folders new and deeper, three temporary files, then three moves: a failure up to the first move changes nothing.
        // (A later move failing would leave the earlier ones done: renames within a folder do not fail for lack of space.)
        for (int failAt = 1; failAt <= 6; failAt++)
        {
            Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAll(files, new InterruptedSteps(failAt)));
            Assert.Equal("old json", File.ReadAllText(targets[0]));
            Assert.Equal("old markdown", File.ReadAllText(targets[2]));
            Assert.Equal(["r.json", "r.md"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }

        AtomicFile.WriteAll(files, new InterruptedSteps(int.MaxValue));
        Assert.All(targets, t => Assert.Equal("new " + Path.GetExtension(t), File.ReadAllText(t)));
    }

    /// <summary>The real file system, except that step <c>failAt</c> (counting from 1) fails as a full disk would: a temporary file is half written, a folder made, a move not done.</summary>
    private sealed class InterruptedSteps(int failAt) : AtomicFile.ISteps
    {
        private int step;

        public void CreateDirectory(string path)
        {
            AtomicFile.Disk.Instance.CreateDirectory(path);
            Fail();
        }

        public void WriteTemporary(string path, string text)
        {
            if (++step == failAt)
            {
                File.WriteAllText(path, text[..(text.Length / 2)]);
                throw new IOException("No space left on device");
            }

            AtomicFile.Disk.Instance.WriteTemporary(path, text);
        }

        public void Move(string from, string to)
        {
            Fail();
            AtomicFile.Disk.Instance.Move(from, to);
        }

        public void DeleteFile(string path) => AtomicFile.Disk.Instance.DeleteFile(path);

        public void DeleteDirectory(string path) => AtomicFile.Disk.Instance.DeleteDirectory(path);

        private void Fail()
        {
            if (++step == failAt)
                throw new IOException("No space left on device");
        }
    }
}
