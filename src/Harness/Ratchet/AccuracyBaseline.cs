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
/// applies only at the seed the baseline was recorded with. Each entry records the numerical contract the
/// kernel was judged by; a run judged by another contract fails every case it covers, naming both, so a
/// declaration loosened to hide a regression (double sums become float ones) is caught by name.
/// </summary>
internal sealed class AccuracyBaseline
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
    /// <exception cref="InvalidDataException">
    /// The file is not valid JSON, or does not follow the schema: suites ("quick", "full") of kernels
    /// (names bnverify knows) of { "seed": int, "contract": "SUMS/STATISTICS/APPLY" (optional), "cases": { case name: { output name: error >= 0 } } }.
    /// The message names the field. A baseline that is silently ignored would switch the ratchet off.
    /// </exception>
    public static AccuracyBaseline Load(string path)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: is a directory, not an accuracy baseline.");
        if (!File.Exists(path))
            return Empty();
        return Parse(AtomicFile.ReadText(path), path);
    }

    /// <summary>Parses and validates a baseline's text; <paramref name="name"/> is used in messages.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Load"/>.</exception>
    public static AccuracyBaseline Parse(string text, string name)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: not JSON: {e.Message}", e);
        }

        var root = Object(node, name, "the document");
        try
        {
            Validate(root, name);
        }
        catch (ArgumentException e)
        {
            // System.Text.Json reports a key repeated in one object only when the object is first read.
            throw new InvalidDataException($"{name}: a key appears twice in one object ({e.Message})", e);
        }

        return new AccuracyBaseline(root);
    }

    private static void Validate(JsonObject root, string name)
    {
        var known = KnownCases();
        foreach (var (suiteName, suiteNode) in root)
        {
            if (!Enum.GetValues<Suite>().Any(s => s.ToString().ToLowerInvariant() == suiteName))
                throw Invalid(name, suiteName, "is not a suite (quick, full)");
            foreach (var (kernel, kernelNode) in Object(suiteNode, name, suiteName))
            {
                string at = $"{suiteName}.{kernel}";
                if (!KnownKernel(kernel))
                    throw Invalid(name, at, $"is not a kernel bnverify knows (see 'bnverify kernels'), nor a user assembly's ({AssemblyPrefix}NAME)");
                var entry = Object(kernelNode, name, at);
                foreach (string field in entry.Select(p => p.Key).Where(k => k is not ("seed" or "contract" or "cases")))
                    throw Invalid(name, $"{at}.{field}", "is not a field of a kernel's baseline (seed, contract, cases)");
                if (entry["seed"] is not JsonValue seed || seed.GetValueKind() != JsonValueKind.Number || !seed.TryGetValue(out int _))
                    throw Invalid(name, $"{at}.seed", "must be a 32-bit integer");
                if (entry["contract"] is { } contract)
                {
                    string? text = contract is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
                    try
                    {
                        NumericalContract.Parse(text ?? throw Invalid(name, $"{at}.contract", "must be a string"));
                    }
                    catch (FormatException e)
                    {
                        throw Invalid(name, $"{at}.contract", $"\"{text}\" is not a contract ({e.Message})");
                    }
                }

                var cases = Object(entry["cases"], name, $"{at}.cases");
                foreach (var (caseName, outputsNode) in cases)
                {
                    if (!known.Contains(caseName))
                        throw Invalid(name, $"{at}.cases.{caseName}", "is not a case of the battery");
                    foreach (var (output, errorNode) in Object(outputsNode, name, $"{at}.cases.{caseName}"))
                    {
                        string field = $"{at}.cases.{caseName}.{output}";
                        if (!Enum.GetValues<BatchNormOutput>().Any(o => o.Name() == output))
                            throw Invalid(name, field, "is not an output");
                        if (errorNode is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue(out double error)
                            || !double.IsFinite(error) || error < 0)
                            throw Invalid(name, field, $"must be a finite number >= 0, got {errorNode?.ToJsonString() ?? "null"}");
                    }
                }
            }
        }
    }

    private static JsonObject Object(JsonNode? node, string name, string at) =>
        node as JsonObject ?? throw Invalid(name, at, $"must be an object, got {(node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}");

    private static InvalidDataException Invalid(string name, string field, string rule) => new($"{name}: {field} {rule}.");

    /// <summary>The prefix of a user assembly's kernel's entry: its name is the user's, not one bnverify knows.</summary>
    public const string AssemblyPrefix = "assembly:";

    /// <summary>The entry a kernel's errors are recorded under: its name, or for a kernel from --kernel-assembly its name after <see cref="AssemblyPrefix"/>.</summary>
    public static string KeyOf(string kernel, bool fromAssembly) => fromAssembly ? AssemblyPrefix + kernel : kernel;

    // Every name on any machine: a baseline recorded where AVX-512 runs is read where it does not.
    private static bool KnownKernel(string kernel) =>
        Kernels.KernelCatalog.AllNames.Contains(kernel) || (kernel.StartsWith(AssemblyPrefix, StringComparison.Ordinal) && kernel.Length > AssemblyPrefix.Length)
        || (kernel.StartsWith(Kernels.Algorithms.AlgorithmKernel.Prefix, StringComparison.Ordinal) && IsContract(kernel[Kernels.Algorithms.AlgorithmKernel.Prefix.Length..]));

    private static bool IsContract(string text)
    {
        try
        {
            NumericalContract.Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Every case name of every suite, activation and precision (a quick run may name a full-suite case with --case).</summary>
    private static HashSet<string> KnownCases() => [.. Battery.Every().Select(c => c.Name)];

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

    /// <summary>Regressions of one result against the baseline (its kernel's entry, or <paramref name="key"/>'s): one message per output, naming both figures.</summary>
    public IReadOnlyList<string> Regressions(Suite suite, CaseResult result, string? key = null)
    {
        // Plain locals rather than pattern variables: a mutation tool that negates one of these conditions must still
        // compile (a pattern variable would be unassigned), so each condition is tested on its own.
        var kernel = Entry(suite, key ?? result.Kernel) as JsonObject;
        if (kernel is null || kernel["seed"]?.GetValue<int>() != result.SuiteSeed)
            return [];
        var recorded = kernel["cases"]?[result.Case.Name] as JsonObject;
        if (recorded is null)
            return [];
        var messages = new List<string>();
        string? contract = kernel["contract"]?.GetValue<string>();
        if (contract is not null && NumericalContract.Parse(contract) != result.Contract)
        {
            messages.Add($"contract: judged by {result.Contract}, but the baseline recorded {contract}: a kernel that no longer meets (or declares) its recorded contract " +
                         $"has lost accuracy by name; if intended, re-baseline with: {ReBaseline(suite, result)}");
        }

        foreach (var output in result.Outputs)
        {
            var value = recorded[output.Output.Name()] as JsonValue;
            if (value is null)
                continue;
            double baseline = value.GetValue<double>();
            double allowed = Factor * baseline + ToleranceModel.U * output.MaxExpectedMagnitude;
            if (output.MaxAbsoluteError > allowed)
            {
                // Each number formatted on its own (invariant, round-trip) rather than by string.Create's handler, whose
                // interpolated argument a mutation tool cannot rewrite: its mutants then compile one by one.
                messages.Add($"{output.Output.Name()}: max abs error {RoundTrip(output.MaxAbsoluteError)} exceeds {RoundTrip(Factor)}x the baseline {RoundTrip(baseline)} " +
                             $"(allowed {RoundTrip(allowed)}); if intended, re-baseline with: {ReBaseline(suite, result)}");
            }
        }

        return messages;
    }

    /// <summary>The command that records a result's kernel, activation and suite anew.</summary>
    private static string ReBaseline(Suite suite, CaseResult result) =>
        $"{Invocation.Bnverify} verify --kernel {result.Kernel}{result.Case.Options.Activation.Flag()} --suite {suite.ToString().ToLowerInvariant()} --update-baseline";

    /// <summary>A double as the shortest invariant text that reads back to it ("R").</summary>
    // Stryker disable once String : equivalent, a double's default format ("G") is also the shortest round-trip text since .NET Core 3.0.
    private static string RoundTrip(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Why this run may not update the kernel's entry in place, or null when it may: an entry recorded at another
    /// seed or under another contract would mix two runs' figures (the ratchet would then apply at neither), so
    /// only a new baseline (<paramref name="replace"/>) may change them.
    /// </summary>
    public string? Conflict(Suite suite, string kernel, int seed, NumericalContract contract, bool replace)
    {
        if (replace || Entry(suite, kernel) is not JsonObject entry)
            return null;
        int recordedSeed = entry["seed"]!.GetValue<int>();
        if (recordedSeed != seed)
            return string.Create(CultureInfo.InvariantCulture, $"the baseline records {kernel}'s suite {suite.ToString().ToLowerInvariant()} at seed {recordedSeed}, not {seed}: re-baseline at seed {recordedSeed}, or replace the whole entry with --new-baseline");
        if (entry["contract"]?.GetValue<string>() is { } recorded && NumericalContract.Parse(recorded) != contract)
            return $"the baseline records {kernel}'s suite {suite.ToString().ToLowerInvariant()} under contract {recorded}, not {contract}: replace the whole entry with --new-baseline";
        return null;
    }

    /// <summary>What a run of <paramref name="kernel"/> at <paramref name="seed"/> is held to: "N recorded cases (seed S, contract C)", or null when nothing applies.</summary>
    public string? Held(Suite suite, string kernel, int seed, IReadOnlyList<CaseResult> results)
    {
        if (Entry(suite, kernel) is not JsonObject entry || entry["seed"]?.GetValue<int>() != seed || entry["cases"] is not JsonObject cases)
            return null;
        int held = results.Count(r => cases.ContainsKey(r.Case.Name));
        return held == 0 ? null
            : string.Create(CultureInfo.InvariantCulture, $"{held} of {results.Count} cases against {kernel}'s recorded errors (suite {suite.ToString().ToLowerInvariant()}, seed {seed}, contract {entry["contract"]?.GetValue<string>() ?? "not recorded"})");
    }

    /// <summary>
    /// Records a run's errors in the baseline of its kernel and suite: the cases it ran are replaced, every other
    /// recorded case (another activation, another shard, cases left out by --case) is kept as it was, so a partial
    /// run never shrinks what a full one recorded. With <paramref name="replace"/> the entry is this run alone.
    /// Check <see cref="Conflict"/> first: recording over another seed or contract is refused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The run conflicts with the recorded entry (<see cref="Conflict"/>).</exception>
    public void Record(Suite suite, string kernel, int seed, NumericalContract contract, IReadOnlyList<CaseResult> results, bool replace = false)
    {
        if (Conflict(suite, kernel, seed, contract, replace) is { } conflict)
            throw new InvalidOperationException(conflict);
        // In place: a re-run case keeps its position, a new one is appended, so the file's diff shows only what changed.
        var fresh = new Dictionary<string, JsonObject>();
        foreach (var result in results)
        {
            var outputs = new JsonObject();
            foreach (var output in result.Outputs)
                outputs[output.Output.Name()] = output.MaxAbsoluteError;
            fresh[result.Case.Name] = outputs;
        }

        var cases = new JsonObject();
        if (!replace && Entry(suite, kernel)?["cases"] is JsonObject previous)
        {
            foreach (var (name, outputs) in previous)
                cases[name] = fresh.Remove(name, out var updated) ? updated : outputs?.DeepClone();
        }

        foreach (var result in results.Where(r => fresh.ContainsKey(r.Case.Name)))
            cases[result.Case.Name] = fresh[result.Case.Name];

        string suiteKey = suite.ToString().ToLowerInvariant();
        if (root[suiteKey] is not JsonObject suiteNode)
            root[suiteKey] = suiteNode = new JsonObject();
        suiteNode[kernel] = new JsonObject { ["seed"] = seed, ["contract"] = contract.ToString(), ["cases"] = cases };
    }

    /// <summary>
    /// Writes the baseline, indented, keys in insertion order, to a temporary file beside it that is then moved into
    /// place: a write that fails (a full disk) leaves the old file as it was.
    /// </summary>
    public void Save(string path) => Save(path, AtomicFile.Disk.Instance);

    /// <summary>As <see cref="Save(string)"/>, through <paramref name="steps"/> (a test interrupts each one in turn).</summary>
    internal void Save(string path, AtomicFile.ISteps steps) =>
        AtomicFile.WriteAll([(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n")], steps);

    private JsonNode? Entry(Suite suite, string kernel) => root[suite.ToString().ToLowerInvariant()]?[kernel];
}
