using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The worked adapter, examples/pytorch/run_suite.py: bnverify export, PyTorch's batch norm over every
/// case, bnverify check. The adapter declares PyTorch 1.13's contract (float-sequential/two-pass/folded-fma,
/// in contract.txt); under it, and under the default contract, what the
/// verifier finds in PyTorch 1.13 is pinned here and in docs/export.md.
/// </summary>
public sealed class PyTorchSuiteTests : IDisposable
{
    /// <summary>The contract of a kernel that declares none: float pairwise sums.</summary>
    private static readonly string[] Default = ["--contract", "float-pairwise/rounded-centre/folded"];

    private readonly string folder = Directory.CreateTempSubdirectory("bnverify-pytorch-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>
    /// Under its contract every quick case passes; under the default its channels-last constant channel fails:
    /// its float mean of 160 equal values is 18 ULP off, further than a pairwise sum's error, as its per-thread sequential sums allow.
    /// </summary>
    [RequiresTorchFact]
    public void PyTorchPassesTheQuickSuiteUnderItsContractAndFailsItsConstantChannelUnderTheDefault()
    {
        Assert.Empty(FailedCases(["--suite", "quick"]));
        Assert.Equal(["constant-channel/nhwc/train"], FailedCases(["--suite", "quick"], Default));
    }

    [RequiresTorchFact]
    public void WithAutogradsOwnStatisticsMEqualOneIsRefused()
    {
        Assert.Equal(["m1/nhwc/backward-train"], FailedCases(["--suite", "quick", "--own-statistics"]));
        Assert.Equal(["constant-channel/nhwc/backward-train", "constant-channel/nhwc/train", "m1/nhwc/backward-train"],
            FailedCases(["--suite", "quick", "--own-statistics"], Default));
    }

    [RequiresTorchFact]
    public void OnTheFullSuiteTheRunningVarianceOfValuesNear4e18Overflows() =>
        Assert.Equal(["large-4e18/nchw/train", "large-4e18/nhwc/train"], FailedCases(["--suite", "full"]));

    /// <summary>torch.relu after the batch norm, and threshold_backward before its backward: nothing found under its contract.</summary>
    [RequiresTorchFact]
    public void WithReluAfterItPyTorchPasses()
    {
        Assert.Empty(FailedCases(["--suite", "quick", "--activation", "relu"]));
        Assert.Equal(["relu/constant-channel/nhwc/train"], FailedCases(["--suite", "quick", "--activation", "relu"], Default));
    }

    /// <summary>
    /// PyTorch's mixed-precision batch norm (bfloat16 data, float32 parameters and statistics): its y
    /// and dx are correctly rounded values of the float results in every case. float16 it refuses on the
    /// CPU ("not implemented for 'Half'"), so check reports every float16 case's outputs missing.
    /// </summary>
    [RequiresTorchFact]
    public void InBFloat16PyTorchPassesAndFloat16ItRefuses()
    {
        Assert.Empty(FailedCases(["--suite", "quick", "--precision", "bf16"]));
        var float16 = FailedCases(["--suite", "quick", "--precision", "fp16", "--case", "fp16/normal"]);
        Assert.Equal(8, float16.Length);
    }

    /// <summary>The three commands of the README, and the names of the cases check failed.</summary>
    private string[] FailedCases(string[] exportOptions, string[]? checkOptions = null)
    {
        string root = Path.Combine(folder, "suite"), json = Path.Combine(folder, "check.json");
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
        var export = Bnverify.Run(["export", root, .. exportOptions]);
        Assert.True(export.ExitCode == 0, export.Error);

        var start = new ProcessStartInfo(RequiresTorchFactAttribute.Python, [Path.Combine(Bnverify.RepositoryRoot(), "examples", "pytorch", "run_suite.py"), root])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using (var adapter = Process.Start(start)!)
        {
            var error = adapter.StandardError.ReadToEndAsync();
            string output = adapter.StandardOutput.ReadToEnd();
            adapter.WaitForExit();
            Assert.True(adapter.ExitCode == 0, output + error.Result);
            Assert.StartsWith("PyTorch 1.13", output);
        }

        Assert.Equal("float-sequential/two-pass/folded-fma", File.ReadAllText(Path.Combine(root, "contract.txt")).Trim());
        var check = Bnverify.Run(["check", root, "--kernel", "pytorch", "--json", json, .. checkOptions ?? []]);
        Assert.True(check.ExitCode is 0 or 1, check.Error);
        var cases = JsonNode.Parse(File.ReadAllText(json))!["cases"]!.AsArray();
        Assert.Equal(check.ExitCode == 0, cases.All(c => (string?)c!["verdict"] == "passed"));
        return [.. cases.Where(c => (string?)c!["verdict"] != "passed").Select(c => (string)c!["name"]!).Order(StringComparer.Ordinal)];
    }
}
