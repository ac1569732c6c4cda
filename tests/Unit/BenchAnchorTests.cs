using System.Text.Json.Nodes;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>bench's anchors: every anchor asked for is timed in the same rounds and reported per cell, the fastest as the one to beat.</summary>
public class BenchAnchorTests
{
    [Fact]
    public void WithoutAnchorsACellHasNoRatio()
    {
        var cell = Cell("--anchor", "none");
        Assert.Null(cell["anchor"]);
        Assert.Null(cell["ratio"]);
        Assert.Empty(cell["anchors"]!.AsArray());
        Assert.True((double)cell["ms"]! > 0);
    }

    [RequiresTorchFact]
    public void PyTorchIsTimedInTheSameRoundsAndNamedWithItsVersion()
    {
        var cell = Cell("--anchor", "pytorch");
        var pytorch = Assert.Single(cell["anchors"]!.AsArray())!;
        Assert.StartsWith("pytorch-1.13", (string)pytorch["anchor"]!);
        Assert.True((double)pytorch["anchor_ms"]! > 0);
        double ratio = (double)pytorch["ratio"]!;
        Assert.InRange(ratio, (double)pytorch["ratio_p25"]!, (double)pytorch["ratio_p75"]!);
        Assert.Equal((string)pytorch["anchor"]!, (string)cell["anchor"]!);   // the only anchor is the best one
    }

    [RequiresTorchAndOneDnnFact]
    public void TheBestAnchorIsTheFastestOfThoseTimed()
    {
        var cell = Cell("--anchor", "onednn", "--anchor", "pytorch");
        var anchors = cell["anchors"]!.AsArray();
        Assert.Equal(2, anchors.Count);
        var fastest = anchors.MinBy(a => (double)a!["anchor_ms"]!)!;
        Assert.Equal((string)fastest["anchor"]!, (string)cell["anchor"]!);
        Assert.Equal((double)fastest["ratio"]!, (double)cell["ratio"]!);
    }

    [Fact]
    public void ACellSaysItsActivation()
    {
        Assert.Equal("none", (string)Cell("--anchor", "none")["activation"]!);
        Assert.Equal("relu", (string)Cell("--anchor", "none", "--activation", "relu")["activation"]!);
    }

    [RequiresTorchAndOneDnnFact]
    public void UnderAFusedReluBothAnchorsAreTimedWithIt()
    {
        var cell = Cell("--anchor", "onednn", "--anchor", "pytorch", "--activation", "relu");
        Assert.Equal("relu", (string)cell["activation"]!);
        Assert.Equal(2, cell["anchors"]!.AsArray().Count);
        Assert.All(cell["anchors"]!.AsArray(), a => Assert.True((double)a!["anchor_ms"]! > 0));
    }

    /// <summary>An anchor whose computation is not batch norm fails its check: no ratio against it, and bench exits 1.</summary>
    [Fact]
    public void AnAnchorThatIsNotBatchNormIsNoAnchor()
    {
        var run = Bnverify.Run("bench", "--kernel", "optimized", "--shape", "64x50", "--layout", "nchw", "--pass", "fwd_train", "--runs", "11", "--format", "jsonl",
            "--anchor", "faulty:eps-outside-sqrt");
        Assert.True(run.ExitCode == 1, run.Output + run.Error);
        var cell = JsonNode.Parse(run.Output.Trim())!.AsObject();
        var checks = cell["checks"]!.AsArray();
        Assert.Equal(["optimized", "faulty:eps-outside-sqrt"], checks.Select(c => (string)c!["kernel"]!));
        Assert.Equal([true, false], checks.Select(c => (bool)c!["passed"]!));
        Assert.StartsWith("faulty:eps-outside-sqrt: failed, error/bound ", (string)checks[1]!["summary"]!);
        Assert.Null(cell["anchor"]); // the only anchor failed: none to beat
    }

    /// <summary>oneDNN and PyTorch pass their checks on every pass of a cell: each is verified on what it times.</summary>
    [RequiresTorchAndOneDnnFact]
    public void EveryAnchorIsVerifiedOnEveryPass()
    {
        var run = Bnverify.Run("bench", "--kernel", "optimized", "--shape", "64x50", "--layout", "nhwc", "--runs", "11", "--format", "jsonl", "--anchor", "onednn", "--anchor", "pytorch");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var cells = run.Output.Trim().Split('\n').Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(3, cells.Count);
        Assert.All(cells, cell =>
        {
            var checks = cell["checks"]!.AsArray();
            Assert.Equal(3, checks.Count);
            Assert.All(checks, c => Assert.True((bool)c!["passed"]!, (string)c!["summary"]!));
            Assert.Contains(checks, c => ((string)c!["summary"]!).Contains("(contract float-sequential/two-pass/folded-fma)", StringComparison.Ordinal));
        });
    }

    /// <summary>One small cell (dense 64x50, inference forward) as bench's jsonl.</summary>
    private static JsonObject Cell(params string[] anchors)
    {
        var run = Bnverify.Run(["bench", "--kernel", "optimized", "--shape", "64x50", "--layout", "nchw", "--pass", "fwd_infer", "--runs", "11", "--format", "jsonl", .. anchors]);
        Assert.True(run.ExitCode == 0, run.Error);
        var cell = JsonNode.Parse(run.Output.Trim())!.AsObject();
        Assert.All(cell["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, (string)c!["summary"]!));
        return cell;
    }
}

/// <summary>A fact that needs both PyTorch and oneDNN: skipped with the missing one's install command.</summary>
public sealed class RequiresTorchAndOneDnnFactAttribute : FactAttribute
{
    public RequiresTorchAndOneDnnFactAttribute() => Skip = new RequiresTorchFactAttribute().Skip ?? new RequiresOneDnnFactAttribute().Skip;
}
