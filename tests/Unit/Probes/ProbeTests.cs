using System.Security.Cryptography;
using BatchNorm.Harness;
using BatchNorm.Harness.Ratchet;
using Xunit;

namespace BatchNorm.Tests.Unit.Probes;

/// <summary>
/// The probe table run against the built bnverify, a class per group so the groups run side by side. Each probe must:
/// exit 2 within 10 s (no hang on a FIFO or a device), print exactly one line on standard error containing the option and
/// the value or path as typed (no stack trace), print nothing on standard output (nothing ran), and leave the sandbox,
/// the committed accuracy baseline and /dev/null as they were.
/// </summary>
public abstract class ProbeGroup
{
    private static readonly string CommittedBaseline = Path.Combine(Bnverify.RepositoryRoot(), AccuracyBaseline.FileName);

    protected static void ExitsTwoWithOneLineAndChangesNothing(string id)
    {
        var probe = ProbeTable.Get(id);
        string before = ProbeSandbox.Snapshot();
        byte[] baseline = SHA256.HashData(File.ReadAllBytes(CommittedBaseline));

        var run = Bnverify.RunIn(ProbeSandbox.Folder, new Dictionary<string, string>(), TimeSpan.FromSeconds(10), probe.Args);

        string[] lines = run.Error.TrimEnd('\n').Split('\n');
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\nstdout: {run.Output}\nstderr: {run.Error}");
        Assert.True(lines.Length == 1 && lines[0].Length > 0, $"{lines.Length} lines on stderr:\n{run.Error}");
        Assert.Contains(probe.Names, lines[0], StringComparison.Ordinal);
        Assert.Equal("", run.Output);
        Assert.Equal(before, ProbeSandbox.Snapshot());
        Assert.Equal(baseline, SHA256.HashData(File.ReadAllBytes(CommittedBaseline)));
        Assert.False(AtomicFile.IsRegularFile("/dev/null"), "/dev/null was replaced by a regular file");
    }
}

public sealed class NumberProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "numbers", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

public sealed class ChoiceProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "choices", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

public sealed class MissingValueProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "missing values", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

public sealed class UnknownWordProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "unknown words", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

public sealed class PathReadProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "paths read", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

public sealed class PathWrittenProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "paths written", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

public sealed class ManifestProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "manifests", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

public sealed class SelectionProbes : ProbeGroup
{
    [Theory]
    [MemberData(nameof(ProbeTable.Ids), "selections", MemberType = typeof(ProbeTable))]
    public void ExitsTwo(string probe) => ExitsTwoWithOneLineAndChangesNothing(probe);
}

/// <summary>The table itself: at least 300 probes, every group present, no two alike.</summary>
public sealed class ProbeTableTests
{
    [Fact]
    public void HoldsAtLeastThreeHundredDistinctProbesInEveryGroup()
    {
        var all = ProbeTable.All;
        Assert.True(all.Count >= 300, $"{all.Count} probes");
        Assert.Equal(all.Count, all.Select(p => p.Id).Distinct().Count());
        string[] groups = ["numbers", "choices", "missing values", "unknown words", "paths read", "paths written", "manifests", "selections"];
        Assert.All(groups, g => Assert.Contains(all, p => p.Group == g));
    }
}
