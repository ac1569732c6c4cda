using System.Text.Json.Nodes;
using System.Xml.Linq;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// export / check, the protocol for kernels outside bnverify: a suite's inputs go out as files, a
/// program writes its outputs beside them, and check gives verify's verdicts, reports and exit codes.
/// </summary>
public sealed class ExportCheckTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("bnverify-export-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Export(params string[] options)
    {
        string root = Path.Combine(folder, $"suite-{Guid.NewGuid():N}");
        var run = Bnverify.Run(["export", root, .. options]);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        return root;
    }

    /// <summary>Every case of an export, checked in process as the check command does.</summary>
    private static IReadOnlyList<CaseResult> CheckAll(string root, string kernel)
    {
        var (manifest, cases) = ExportCheck.Open(root);
        return cases.Select((c, i) => ExportCheck.Check(root, manifest, manifest.Cases[i], c, kernel)).ToArray();
    }

    [Fact]
    public void AFusedReluSuiteGoesThroughFilesWithTheForwardYAndItsActivation()
    {
        string root = Export("--activation", "relu", "--case", "relu/normal");
        string manifest = File.ReadAllText(Path.Combine(root, ExportManifest.FileName));
        Assert.Contains("\"activation\": \"relu\"", manifest);
        Assert.True(File.Exists(Path.Combine(root, "relu/normal/nchw/backward-train", "forward_y.npy")));
        Assert.False(File.Exists(Path.Combine(root, "relu/normal/nchw/train", "forward_y.npy")));

        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));
        Assert.All(CheckAll(root, "optimized"), r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));
        var gateIgnored = KernelCatalog.Create("faulty:relu-gate-ignored");
        ExternalProgram.Run(root, gateIgnored);
        var failed = CheckAll(root, gateIgnored.Name).Where(r => r.Verdict == Verdict.Failed).Select(r => r.Case.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["relu/normal/nchw/backward-infer", "relu/normal/nchw/backward-train", "relu/normal/nhwc/backward-infer", "relu/normal/nhwc/backward-train"], failed);
    }

    [Fact]
    public void ABFloat16SuiteGoesThroughFilesAsValuesOfTheFormat()
    {
        string root = Export("--precision", "bf16", "--case", "bf16/normal");
        Assert.Contains("\"precision\": \"bf16\"", File.ReadAllText(Path.Combine(root, ExportManifest.FileName)));
        float[] x = BatchNorm.Harness.Npy.NpyArray.Read(Path.Combine(root, "bf16/normal/nchw/train", "x.npy")).ToFloat32();
        Assert.All(x, v => Assert.True(DataPrecisions.Holds(v, DataPrecision.BFloat16)));

        ExternalProgram.Run(root, KernelCatalog.Create("optimized-bf16"));
        Assert.All(CheckAll(root, "optimized-bf16"), r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));
        ExternalProgram.Run(root, KernelCatalog.Create("faulty:bf16-truncated"));
        Assert.All(CheckAll(root, "faulty:bf16-truncated"), r => Assert.Equal(Verdict.Failed, r.Verdict));
    }

    [Fact]
    public void TheOptimizedKernelThroughFilesGetsExactlyVerifysVerdictsAndErrors()
    {
        // The manifest carries the optimized kernel's contract, so check judges by the bounds verify uses.
        string root = Export("--suite", "quick", "--contract", "double/two-pass/centred");
        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));

        string checkJson = Path.Combine(folder, "check.json"), verifyJson = Path.Combine(folder, "verify.json");
        var check = Bnverify.Run("check", root, "--kernel", "optimized", "--json", checkJson);
        var verify = Bnverify.Run("verify", "--json", verifyJson);

        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        Assert.Contains("optimized, suite quick, seed 20261121: 89 passed, 0 failed, 0 mistrusted", check.Output);
        Assert.Equal(0, verify.ExitCode);
        // The same inputs, kernel and reference: every output's errors and headroom are the same numbers.
        Assert.NotEmpty(Errors(verifyJson));
        Assert.Equal(Errors(verifyJson), Errors(checkJson));
    }

    /// <summary>A case deleted from the manifest is a case nobody checked: check fails it by name, and only it.</summary>
    [Fact]
    public void ACaseDroppedFromTheManifestFailsByName()
    {
        string root = Export("--suite", "quick", "--case", "normal", "--contract", "double/two-pass/centred");
        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));
        string manifest = Path.Combine(root, "manifest.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        var listed = json["cases"]!.AsArray();
        string dropped = (string)listed[2]!["name"]!;
        listed.RemoveAt(2);
        File.WriteAllText(manifest, json.ToJsonString());

        var check = Bnverify.Run("check", root, "--kernel", "optimized");
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("optimized, suite quick, seed 20261121: 7 passed, 1 failed", check.Output);
        Assert.Contains($"{dropped} [optimized] FAILED", check.Output);
        Assert.Contains("the manifest does not list this case of suite quick", check.Output);
    }

    [Fact]
    public void EveryFaultyKernelThroughFilesFailsTheCasesVerifyFailsOnItsOutputs()
    {
        string root = Export("--suite", "quick");
        var invisible = new List<string>();
        foreach (var kernel in FaultyKernels.All)
        {
            ExternalProgram.Run(root, kernel);
            var failedByCheck = CheckAll(root, kernel.Name).Where(r => r.Verdict != Verdict.Passed).Select(r => r.Case.Name).ToHashSet();
            var failedOnOutputs = Verifier.Run(kernel, Battery.For(Suite.Quick), Battery.DefaultSeed)
                .Where(r => r.Outputs.Any(o => !o.Passed) || r.MistrustReason is not null).Select(r => r.Case.Name).ToHashSet();

            Assert.True(failedOnOutputs.SetEquals(failedByCheck), $"{kernel.Name}: check failed [{string.Join(", ", failedByCheck.Order())}], verify failed on outputs [{string.Join(", ", failedOnOutputs.Order())}]");
            if (failedByCheck.Count == 0)
                invisible.Add(kernel.Name);
        }

        // A write outside the outputs lands in the program's own memory: only verify, in process, sees it.
        Assert.Equal(["faulty:write-past-end"], invisible);
    }

    [Fact]
    public void AMissingOutputFailsItsCaseByNameAndTheOthersStillPass()
    {
        string root = Export("--case", "normal");
        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));
        File.Delete(Path.Combine(root, "normal", "nhwc", "train", "y.npy"));

        var run = Bnverify.Run("check", root);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("normal/nhwc/train [external] FAILED", run.Output);
        Assert.Contains("  y: y.npy is missing", run.Output);
        Assert.Contains("external, suite quick, seed 20261121: 7 passed, 1 failed, 0 mistrusted", run.Output);
    }

    [Fact]
    public void AnInputTheProgramOverwroteAndAFloat64OutputFailTheirCases()
    {
        string root = Export("--case", "normal/nchw");
        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));
        string train = Path.Combine(root, "normal", "nchw", "train"), infer = Path.Combine(root, "normal", "nchw", "infer");
        var x = Harness.Npy.NpyArray.Read(Path.Combine(train, "x.npy"));
        float[] changed = x.ToFloat32();
        changed[5] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(changed[5]) ^ 1);   // one bit of one element
        Harness.Npy.NpyArray.WriteFloat32(Path.Combine(train, "x.npy"), changed, x.Shape);
        var y = Harness.Npy.NpyArray.Read(Path.Combine(infer, "y.npy"));
        File.WriteAllBytes(Path.Combine(infer, "y.npy"), Float64Npy(y.Values, y.Shape));

        var results = CheckAll(root, "external").ToDictionary(r => r.Case.Name);

        Assert.Contains("x: x.npy is no longer the exported input (the program wrote to an input, or the export is of another bnverify)", results["normal/nchw/train"].Violations);
        Assert.Contains("y: y.npy is float64; a float32 kernel's tensors are saved as float32", results["normal/nchw/infer"].Violations);
        Assert.Equal(Verdict.Failed, results["normal/nchw/train"].Verdict);
        Assert.Equal(Verdict.Failed, results["normal/nchw/infer"].Verdict);
        Assert.All(results.Values.Where(r => r.Case.Name is not "normal/nchw/train" and not "normal/nchw/infer"), r => Assert.Equal(Verdict.Passed, r.Verdict));
    }

    [Fact]
    public void ExportShardsPartitionTheSuiteAndCheckShardsMergeIntoTheWholeChecksJUnit()
    {
        var exported = Enumerable.Range(1, 3).SelectMany(k => ExportCheck.Open(Export("--shard", $"{k}/3")).Cases.Select(c => c.Name)).ToArray();
        Assert.Equal(Battery.For(Suite.Quick).Select(c => c.Name).Order(StringComparer.Ordinal), exported.Order(StringComparer.Ordinal));

        string root = Export();
        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));
        string whole = Path.Combine(folder, "whole.xml");
        Assert.Equal(0, Bnverify.Run("check", root, "--junit", whole).ExitCode);
        var merged = new List<string>();
        for (int k = 1; k <= 3; k++)
        {
            string file = Path.Combine(folder, $"shard-{k}.xml");
            var run = Bnverify.Run("check", root, "--shard", $"{k}/3", "--junit", file);
            Assert.True(run.ExitCode == 0, run.Output + run.Error);
            Assert.Contains($"shard {k}/3", run.Output);
            merged.AddRange(XDocument.Load(file).Descendants("testcase").Select(t => $"{t.Attribute("classname")?.Value}/{t.Attribute("name")?.Value}"));
        }

        var all = XDocument.Load(whole).Descendants("testcase").Select(t => $"{t.Attribute("classname")?.Value}/{t.Attribute("name")?.Value}");
        Assert.Equal(all.Order(StringComparer.Ordinal), merged.Order(StringComparer.Ordinal));
        Assert.Equal(89, merged.Count);
    }

    [Fact]
    public void OwnStatisticsLeaveOutTheSavedStatisticsAndStillPassAKernelThatComputesItsOwn()
    {
        string root = Export("--own-statistics", "--case", "normal");
        var (manifest, cases) = ExportCheck.Open(root);
        var backward = manifest.Cases.Single(c => c.Name == "normal/nchw/backward-train");
        Assert.DoesNotContain(BatchNormInput.SavedMean, backward.Inputs);
        Assert.False(File.Exists(Path.Combine(root, backward.Directory, "saved_mean.npy")));
        Assert.All(cases.Where(c => c.Pass == BatchNormPass.BackwardTraining), c => Assert.True(c.SavedStatisticsFromKernel));

        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));
        var run = Bnverify.Run("check", root);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
    }

    [Theory]
    [InlineData("format", "\"bnverify-suite/0\"", "format \"bnverify-suite/0\" is not bnverify-suite/1; export the suite again with this bnverify.")]
    [InlineData("seed", "\"7\"", "\"seed\" must be an integer.")]
    [InlineData("saved_statistics", "\"mine\"", "saved_statistics \"mine\" is not given or own.")]
    [InlineData("name", "\"normal/nchw/no-such-pass\"", "case normal/nchw/no-such-pass: this bnverify has no case of that name; export the suite again with it.")]
    [InlineData("directory", "\"../../etc\"", "case normal/nchw/train: directory \"../../etc\" must be \"normal/nchw/train\".")]
    [InlineData("s", "50", "case normal/nchw/train: pass, layout, shape, activation or precision differ from this bnverify's case")]
    [InlineData("activation", "\"relu\"", "case normal/nchw/train: pass, layout, shape, activation or precision differ from this bnverify's case")]
    [InlineData("precision", "\"bf16\"", "case normal/nchw/train: pass, layout, shape, activation or precision differ from this bnverify's case")]
    [InlineData("precision", "16", "\"precision\" must be a string.")]
    public void AManifestThatDoesNotFollowTheFormatExitsTwoNamingTheField(string field, string value, string message)
    {
        string root = Export("--case", "normal/nchw/train");
        string path = Path.Combine(root, ExportManifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var target = manifest.ContainsKey(field) ? manifest : manifest["cases"]![0]!.AsObject();
        target[field] = JsonNode.Parse(value);
        File.WriteAllText(path, manifest.ToJsonString());

        var run = Bnverify.Run("check", root);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"{path}: {message}", run.Error);
        Assert.Empty(run.Output);
    }

    [Fact]
    public void AnExportFromBeforeTheActivationAndPrecisionFieldsStillChecks()
    {
        // Those fields came later in format bnverify-suite/1; without them a case is plain float32, as every case was then.
        string root = Export("--case", "normal/nchw/train");
        string path = Path.Combine(root, ExportManifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var @case = manifest["cases"]![0]!.AsObject();
        Assert.True(@case.Remove("activation") && @case.Remove("precision"));
        File.WriteAllText(path, manifest.ToJsonString());
        ExternalProgram.Run(root, KernelCatalog.Create("optimized"));

        var run = Bnverify.Run("check", root);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
    }

    [Fact]
    public void ExportRefusesAFolderThatIsNotEmptyAndCheckOneWithoutAManifest()
    {
        string root = Export("--case", "normal/nchw/train");

        var again = Bnverify.Run("export", root);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains($"{root}: exists and is not an empty folder", again.Error);

        File.Delete(Path.Combine(root, ExportManifest.FileName));
        var check = Bnverify.Run("check", root);
        Assert.Equal(2, check.ExitCode);
        Assert.Equal($"{root}: has no manifest.json; it is not an exported suite (or its export did not finish).", check.Error.TrimEnd());
    }

    /// <summary>Case, output, max absolute error and headroom of every output in a JSON report.</summary>
    private static string[] Errors(string json) =>
        [.. JsonNode.Parse(File.ReadAllText(json))!["cases"]!.AsArray().SelectMany(c => c!["outputs"]!.AsArray()
            .Select(o => $"{c["name"]} {o!["output"]} {o["maxAbsoluteError"]} {o["worstRatio"]}"))];

    private static byte[] Float64Npy(double[] values, long[] shape)
    {
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}{(shape.Length == 1 ? "," : "")}), }}";
        header = header.PadRight(((header.Length + 11 + 63) / 64 * 64) - 11) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, .. "NUMPY"u8, 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
        foreach (double v in values)
            stream.Write(BitConverter.GetBytes(v));
        return stream.ToArray();
    }
}
