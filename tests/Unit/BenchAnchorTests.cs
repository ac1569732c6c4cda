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

    /// <summary>One small cell (dense 64x50, inference forward) as bench's jsonl.</summary>
    private static JsonObject Cell(params string[] anchors)
    {
        var run = Bnverify.Run(["bench", "--kernel", "optimized", "--shape", "64x50", "--layout", "nchw", "--pass", "fwd_infer", "--runs", "11", "--format", "jsonl", .. anchors]);
        Assert.True(run.ExitCode == 0, run.Error);
        return JsonNode.Parse(run.Output.Trim())!.AsObject();
    }
}

/// <summary>A fact that needs both PyTorch and oneDNN: skipped with the missing one's install command.</summary>
public sealed class RequiresTorchAndOneDnnFactAttribute : FactAttribute
{
    public RequiresTorchAndOneDnnFactAttribute() => Skip = new RequiresTorchFactAttribute().Skip ?? new RequiresOneDnnFactAttribute().Skip;
}
