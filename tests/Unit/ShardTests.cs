using System.Xml.Linq;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>--shard K/N splits a suite across CI jobs: the shards partition it, and their reports merge into the whole run's.</summary>
public class ShardTests
{
    [Fact]
    public void TheShardsOfASuitePartitionIt()
    {
        foreach (var suite in Enum.GetValues<Suite>())
        {
            var cases = Battery.For(suite);
            foreach (int n in new[] { 1, 2, 3, 5, 8 })
            {
                var shards = Enumerable.Range(1, n).Select(k => Verifier.Shard(cases, k, n)).ToArray();
                var union = shards.SelectMany(s => s).Select(c => c.Name).ToArray();
                Assert.Equal(cases.Count, union.Length);   // no case twice
                Assert.Equal(cases.Select(c => c.Name).Order(StringComparer.Ordinal), union.Order(StringComparer.Ordinal));
                Assert.All(shards, s => Assert.Equal(s.Select(c => c.Name), cases.Select(c => c.Name).Where(s.Select(x => x.Name).Contains)));   // suite order kept
            }
        }
    }

    [Fact]
    public void AShardIsRefusedOutsideOneToN()
    {
        var cases = Battery.For(Suite.Quick);
        Assert.Throws<ArgumentOutOfRangeException>(() => Verifier.Shard(cases, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Verifier.Shard(cases, 4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Verifier.Shard(cases, 1, 0));
    }

    [Fact]
    public void TheShardsJUnitFilesMergeIntoTheWholeRunsCases()
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-shards-").FullName;
        string whole = Path.Combine(folder, "whole.xml");
        Assert.Equal(0, Bnverify.Run("verify", "--junit", whole).ExitCode);
        var merged = new List<string>();
        for (int k = 1; k <= 3; k++)
        {
            string file = Path.Combine(folder, $"shard-{k}.xml");
            var run = Bnverify.Run("verify", "--shard", $"{k}/3", "--junit", file);
            Assert.True(run.ExitCode == 0, run.Output + run.Error);
            Assert.Contains($"shard {k}/3", run.Output);
            merged.AddRange(TestCases(file));
        }

        Assert.Equal(TestCases(whole).Order(StringComparer.Ordinal), merged.Order(StringComparer.Ordinal));
        Directory.Delete(folder, recursive: true);
    }

    private static IEnumerable<string> TestCases(string junit) =>
        XDocument.Load(junit).Descendants("testcase").Select(t => $"{t.Attribute("classname")?.Value}/{t.Attribute("name")?.Value}");
}
