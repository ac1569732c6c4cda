using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Snapshots;

/// <summary>TOLERANCES.md never goes stale: it is regenerated here and must match the committed file.</summary>
public class ToleranceTableTests
{
    [Fact]
    public void TheCommittedToleranceTableIsWhatTheFullSuiteProducesNow()
    {
        string root = RepositoryRoot();
        var results = Verifier.Run(KernelCatalog.Create("optimized"), Battery.For(Suite.Full), Battery.DefaultSeed);
        string fresh = MarkdownReport.Render("optimized", "full", Battery.DefaultSeed, results);
        string committed = File.ReadAllText(Path.Combine(root, "TOLERANCES.md"));
        if (fresh != committed)
        {
            string received = Path.Combine(root, "TOLERANCES.received.md");
            File.WriteAllText(received, fresh);
            Assert.Fail($"TOLERANCES.md is stale. Review: diff TOLERANCES.md TOLERANCES.received.md; approve: mv {received} {Path.Combine(root, "TOLERANCES.md")} " +
                        "(or: dotnet run --project src/Cli -c Release -- verify --suite full --markdown TOLERANCES.md).");
        }
    }

    private static string RepositoryRoot() => Support.Repository.Root;
}
