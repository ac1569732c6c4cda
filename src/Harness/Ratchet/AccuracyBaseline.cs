using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Ratchet;

/// <summary>
/// The accuracy ratchet: each kernel's observed worst absolute error per suite, case and output,
/// committed in accuracy-baseline.json beside TOLERANCES.md. Within the sound bound a kernel can
/// still get worse; this catches it. An output regresses when its error exceeds
/// <see cref="Factor"/> times the baseline plus one float rounding (2^-24) of the output's largest
/// expected magnitude, so noise of an ULP passes and a 2-ULP-to-2000-ULP change fails. The ratchet
/// applies only at the seed the baseline was recorded with.
/// </summary>
public sealed class AccuracyBaseline
{
    /// <summary>How much worse than the baseline an error may get before it counts as a regression.</summary>
    public const double Factor = 4.0;

    /// <summary>The file name, at the repository root.</summary>
    public const string FileName = "accuracy-baseline.json";

    private readonly JsonObject root;

    private AccuracyBaseline(JsonObject root) => this.root = root;

    /// <summary>An empty baseline.</summary>
    public static AccuracyBaseline Empty() => new(new JsonObject());

    /// <summary>Reads a baseline file; a missing file is an empty baseline.</summary>
    /// <exception cref="InvalidDataException">The file is not a baseline.</exception>
    public static AccuracyBaseline Load(string path)
    {
        if (!File.Exists(path))
            return Empty();
        try
        {
            return new AccuracyBaseline(JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? new JsonObject());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not an accuracy baseline: {e.Message}", e);
        }
    }

    /// <summary>The baseline file of the repository containing the working directory, or null outside one.</summary>
    public static string? Locate()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Verification.sln")))
                return Path.Combine(dir.FullName, FileName);
        }

        return null;
    }

    /// <summary>Regressions of one result against the baseline: one message per output, naming both figures.</summary>
    public IReadOnlyList<string> Regressions(Suite suite, CaseResult result)
    {
        if (Entry(suite, result.Kernel) is not JsonObject kernel || kernel["seed"]?.GetValue<int>() != result.SuiteSeed)
            return [];
        if (kernel["cases"]?[result.Case.Name] is not JsonObject recorded)
            return [];
        var messages = new List<string>();
        foreach (var output in result.Outputs)
        {
            if (recorded[output.Output.Name()] is not JsonValue value)
                continue;
            double baseline = value.GetValue<double>();
            double allowed = Factor * baseline + ToleranceModel.U * output.MaxExpectedMagnitude;
            if (output.MaxAbsoluteError > allowed)
            {
                messages.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{output.Output.Name()}: max abs error {output.MaxAbsoluteError:R} exceeds {Factor}x the baseline {baseline:R} (allowed {allowed:R}); " +
                    $"if intended, re-baseline with: dotnet run --project src/Cli -c Release -- verify --kernel {result.Kernel} --suite {suite.ToString().ToLowerInvariant()} --update-baseline"));
            }
        }

        return messages;
    }

    /// <summary>Records a run's errors as the new baseline of its kernel and suite.</summary>
    public void Record(Suite suite, string kernel, int seed, IReadOnlyList<CaseResult> results)
    {
        var cases = new JsonObject();
        foreach (var result in results)
        {
            var outputs = new JsonObject();
            foreach (var output in result.Outputs)
                outputs[output.Output.Name()] = output.MaxAbsoluteError;
            cases[result.Case.Name] = outputs;
        }

        string suiteKey = suite.ToString().ToLowerInvariant();
        if (root[suiteKey] is not JsonObject suiteNode)
            root[suiteKey] = suiteNode = new JsonObject();
        suiteNode[kernel] = new JsonObject { ["seed"] = seed, ["cases"] = cases };
    }

    /// <summary>Writes the baseline, indented, keys in insertion order.</summary>
    public void Save(string path) =>
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    private JsonNode? Entry(Suite suite, string kernel) => root[suite.ToString().ToLowerInvariant()]?[kernel];
}
