using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;
using static BatchNorm.Harness.Exchange.JsonFields;

namespace BatchNorm.Harness.Exchange;

/// <summary>One exported case: where its files are, what the program must run, and which outputs it must write back.</summary>
/// <param name="Name">The case's name in the suite, e.g. "normal/nhwc/train".</param>
/// <param name="Directory">Its folder, relative to the export's root (the name, which uses '/' for folders).</param>
/// <param name="Pass">The pass the program runs.</param>
/// <param name="Shape">N, C, S and the layout.</param>
/// <param name="XShape">The .npy shape of x and of y, dy, dx: (N, C, S) channels-first, (N, S, C) channels-last, (N, C) when S = 1.</param>
/// <param name="Options">Convention, epsilon and momentum.</param>
/// <param name="Inputs">The input files written (absent gamma or beta: the kernel uses 1 or 0).</param>
/// <param name="Outputs">The output files expected back; a missing one fails the case.</param>
/// <param name="Precision">The format of the data tensors: the inputs are values of it, the outputs must be.</param>
internal sealed record ExportedCase(string Name, string Directory, BatchNormPass Pass, TensorShape Shape, long[] XShape, BatchNormOptions Options,
    IReadOnlyList<BatchNormInput> Inputs, IReadOnlyList<BatchNormOutput> Outputs, DataPrecision Precision);

/// <summary>
/// manifest.json of an exported suite (<c>bnverify export</c>), the contract with a program that runs a
/// kernel outside bnverify: for every case, its inputs (little-endian float32 .npy, C order) and the
/// outputs expected back beside them under the names listed. docs/export.md describes every field.
/// </summary>
internal sealed record ExportManifest(Suite Suite, int Seed, (int K, int N)? Shard, bool OwnStatistics, IReadOnlyList<ExportedCase> Cases)
{
    public const string FileName = "manifest.json";

    /// <summary>The --case filter the export was made with, or null for the whole suite: with the suite, seed and shard it says which cases the manifest must list.</summary>
    public string? CaseFilter { get; init; }

    /// <summary>
    /// The cases of the suite this export was made of (its suite, --case filter and shard, in the activation and
    /// precision of its cases) that <paramref name="listed"/> does not hold: a case deleted from a manifest is a case
    /// nobody checked, not a pass.
    /// </summary>
    public IReadOnlyList<VerificationCase> Missing(IReadOnlyList<VerificationCase> listed)
    {
        if (listed.Count == 0)
            return [];
        var names = listed.Select(c => c.Name).ToHashSet();
        return Selection(listed[0]).Where(c => !names.Contains(c.Name)).ToArray();
    }

    /// <summary>The cases this export was made of: its suite, --case filter and shard, in the activation and precision of <paramref name="any"/>, one of its cases.</summary>
    private IReadOnlyList<VerificationCase> Selection(VerificationCase any)
    {
        IReadOnlyList<VerificationCase> expected = Verifier.Select(Suite, CaseFilter, any.Options.Activation, any.Precision);
        return Shard is var (k, n) ? Verifier.Shard(expected, k, n) : expected;
    }

    /// <summary>The numerical contract the program's kernel declares (<c>export --contract</c>), or null: check then holds it to <see cref="NumericalContract.Default"/> unless told another.</summary>
    public NumericalContract? Contract { get; init; }

    /// <summary>The format's name and version; a reader refuses any other.</summary>
    public const string Format = "bnverify-suite/1";

    public static string PassName(BatchNormPass pass) => pass switch
    {
        BatchNormPass.ForwardTraining => "forward_training",
        BatchNormPass.ForwardInference => "forward_inference",
        BatchNormPass.BackwardTraining => "backward_training",
        BatchNormPass.BackwardInference => "backward_inference",
        _ => throw new ArgumentOutOfRangeException(nameof(pass), pass, "not a batch norm pass"),
    };

    public static string ConventionName(RunningStatsConvention convention) => convention switch
    {
        RunningStatsConvention.PyTorch => "pytorch",
        RunningStatsConvention.Keras => "keras",
        RunningStatsConvention.Onnx => "onnx",
        _ => throw new ArgumentOutOfRangeException(nameof(convention), convention, "not a convention"),
    };

    /// <summary>The manifest as indented JSON; every double is written in its shortest round-trip form.</summary>
    public string ToJson()
    {
        var cases = new JsonArray();
        foreach (var c in Cases)
        {
            var inputs = new JsonObject();
            foreach (var input in c.Inputs)
                inputs[input.FileStem()] = input.FileStem() + ".npy";
            var outputs = new JsonObject();
            foreach (var output in c.Outputs)
                outputs[output.FileStem()] = output.FileStem() + ".npy";
            cases.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["directory"] = c.Directory,
                ["pass"] = PassName(c.Pass),
                ["layout"] = c.Shape.Layout.Short(),
                ["n"] = c.Shape.N,
                ["c"] = c.Shape.C,
                ["s"] = c.Shape.S,
                ["x_shape"] = new JsonArray([.. c.XShape.Select(d => (JsonNode)d)]),
                ["convention"] = ConventionName(c.Options.Convention),
                ["eps"] = c.Options.Epsilon,
                ["momentum"] = c.Options.Momentum,
                ["activation"] = c.Options.Activation.Short(),
                ["precision"] = c.Precision.ShortName(),
                ["inputs"] = inputs,
                ["outputs"] = outputs,
            });
        }

        var root = new JsonObject
        {
            ["format"] = Format,
            ["suite"] = Suite.ToString().ToLowerInvariant(),
            ["seed"] = Seed,
            ["shard"] = Shard is var (k, n) ? string.Create(CultureInfo.InvariantCulture, $"{k}/{n}") : null,
            ["saved_statistics"] = OwnStatistics ? "own" : "given",
        };
        if (Contract is not null)
            root["contract"] = Contract.ToString();
        if (CaseFilter is not null)
            root["case"] = CaseFilter;
        root["cases"] = cases;
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>
    /// Reads a manifest and matches each case with the suite's case of that name, which supplies
    /// everything bnverify needs; the manifest's fields must agree with it.
    /// </summary>
    /// <exception cref="InvalidDataException">Not JSON, another format, a missing or mistyped field, a case this bnverify does not have or that differs from its own, a directory outside the export; the message names the field.</exception>
    public static (ExportManifest Manifest, IReadOnlyList<VerificationCase> Cases) Parse(string json, string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 16 }) as JsonObject
                   ?? throw new InvalidDataException($"{path}: not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }

        Known(root, TopFields, path, "the manifest", Format);
        string format = Text(root, "format", path);
        if (format != Format)
            throw new InvalidDataException($"{path}: format \"{format}\" is not {Format}; export the suite again with this bnverify.");
        var suite = Text(root, "suite", path) switch
        {
            "quick" => Suite.Quick,
            "full" => Suite.Full,
            var other => throw new InvalidDataException($"{path}: suite \"{other}\" is not quick or full."),
        };
        int seed = Integer(root, "seed", path);
        bool own = Text(root, "saved_statistics", path) switch
        {
            "own" => true,
            "given" => false,
            var other => throw new InvalidDataException($"{path}: saved_statistics \"{other}\" is not given or own."),
        };
        (int, int)? shard = root["shard"] is null ? null
            : Verifier.ParseShard(Text(root, "shard", path)) ?? throw new InvalidDataException($"{path}: shard \"{Text(root, "shard", path)}\" is not K/N with 1 <= K <= N.");
        NumericalContract? contract = null;
        if (root["contract"] is not null)
        {
            string text = Text(root, "contract", path);
            try
            {
                contract = NumericalContract.Parse(text);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{path}: contract \"{text}\": {e.Message}", e);
            }
        }

        if (root["cases"] is not JsonArray array)
            throw new InvalidDataException($"{path}: cases must be an array.");
        if (array.Count == 0)
            throw new InvalidDataException($"{path}: cases is empty; an export holds at least one case, and a check of none would pass having checked nothing.");

        var battery = Battery.Every().ToDictionary(c => c.Name);
        var cases = new List<ExportedCase>();
        var suiteCases = new List<VerificationCase>();
        foreach (var node in array)
        {
            if (node is not JsonObject item)
                throw new InvalidDataException($"{path}: every case must be an object.");
            string name = Text(item, "name", path);
            string where = $"{path}: case {name}";
            Known(item, CaseFields, path, $"case {name}", Format);
            if (suiteCases.Any(c => c.Name == name))
                throw new InvalidDataException($"{where}: listed twice; each case is checked once.");
            if (!battery.TryGetValue(name, out var @case))
                throw new InvalidDataException($"{where}: this bnverify has no case of that name; export the suite again with it.");
            if (own && @case.Pass == BatchNormPass.BackwardTraining)
                @case = @case with { SavedStatisticsFromKernel = true };
            var expected = Describe(@case);
            string directory = Text(item, "directory", path);
            if (directory != expected.Directory)
                throw new InvalidDataException($"{where}: directory \"{directory}\" must be \"{expected.Directory}\".");
            if (Text(item, "pass", path) != PassName(@case.Pass) || Text(item, "layout", path) != @case.Shape.Layout.Short()
                || TextOr(item, "activation", Activation.None.Short(), path) != @case.Options.Activation.Short()
                || TextOr(item, "precision", DataPrecision.Float32.ShortName(), path) != @case.Precision.ShortName()
                || Integer(item, "n", path) != @case.Shape.N || Integer(item, "c", path) != @case.Shape.C || Integer(item, "s", path) != @case.Shape.S)
                throw new InvalidDataException($"{where}: pass, layout, shape, activation or precision differ from this bnverify's case ({@case.Describe()}); export the suite again with it.");
            RequireSame(item, expected, where, path);
            cases.Add(expected);
            suiteCases.Add(@case);
        }

        string? caseFilter = root["case"] is null ? null : Text(root, "case", path);
        var manifest = new ExportManifest(suite, seed, shard, own, cases) { Contract = contract, CaseFilter = caseFilter };
        var selection = manifest.Selection(suiteCases[0]).Select(c => c.Name).ToHashSet();
        if (suiteCases.FirstOrDefault(c => !selection.Contains(c.Name)) is { } stray)
        {
            throw new InvalidDataException($"{path}: case {stray.Name} is not one of the cases this export was made of (suite {Text(root, "suite", path)}" +
                                           $"{(caseFilter is null ? "" : $", case {caseFilter}")}{(shard is var (k, n) ? string.Create(CultureInfo.InvariantCulture, $", shard {k}/{n}") : "")}, " +
                                           "and the activation and precision of its first case).");
        }

        return (manifest, suiteCases);
    }

    /// <summary>The .npy shape of x and of y, dy, dx: (N, C, S) channels-first, (N, S, C) channels-last, (N, C) when S = 1.</summary>
    public static long[] XShapeOf(TensorShape shape) => shape.S == 1 ? [shape.N, shape.C]
        : shape.Layout == Layout.ChannelsFirst ? [shape.N, shape.C, shape.S] : [shape.N, shape.S, shape.C];

    /// <summary>How a case of the suite is exported.</summary>
    public static ExportedCase Describe(VerificationCase @case)
    {
        var shape = @case.Shape;
        long[] xShape = XShapeOf(shape);
        var inputs = BatchNormTensors.InputsOf(@case.Pass, @case.Gamma != GammaKind.Absent, @case.WithBeta, @case.WithRunningStats, !@case.SavedStatisticsFromKernel,
            @case.Options.Activation);
        return new ExportedCase(@case.Name, @case.Name, @case.Pass, shape, xShape, @case.Options, inputs, BatchNormTensors.OutputsOf(@case.Pass, @case.WithRunningStats), @case.Precision);
    }

    private static readonly string[] TopFields = ["format", "suite", "seed", "shard", "saved_statistics", "contract", "case", "cases"];

    private static readonly string[] CaseFields =
        ["name", "directory", "pass", "layout", "n", "c", "s", "x_shape", "convention", "eps", "momentum", "activation", "precision", "inputs", "outputs"];

    /// <summary>
    /// The fields the suite's case determines (x's shape, the convention, eps and momentum, the files in and out) must
    /// be what this bnverify exports for it: check runs the reference on its own inputs, so a manifest that says
    /// otherwise describes a different run. eps and momentum are compared exactly: the manifest holds them in
    /// round-trip form.
    /// </summary>
    private static void RequireSame(JsonObject item, ExportedCase expected, string where, string path)
    {
        if (item["x_shape"] is not JsonArray dims || dims.Count != expected.XShape.Length
            || dims.Select((d, i) => d is JsonValue v && v.TryGetValue(out long value) && value == expected.XShape[i]).Any(ok => !ok))
            throw new InvalidDataException($"{where}: x_shape must be [{string.Join(", ", expected.XShape)}].");
        if (Text(item, "convention", path) != ConventionName(expected.Options.Convention))
            throw new InvalidDataException($"{where}: convention must be \"{ConventionName(expected.Options.Convention)}\".");
        if (Number(item, "eps", path) != expected.Options.Epsilon || Number(item, "momentum", path) != expected.Options.Momentum)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{where}: eps and momentum must be {expected.Options.Epsilon:R} and {expected.Options.Momentum:R}."));
        RequireFiles(item, "inputs", expected.Inputs.Select(i => i.FileStem()), where);
        RequireFiles(item, "outputs", expected.Outputs.Select(o => o.FileStem()), where);
    }

    /// <summary>"inputs" or "outputs": exactly the stems given, each mapped to STEM.npy.</summary>
    private static void RequireFiles(JsonObject item, string field, IEnumerable<string> stems, string where)
    {
        var expected = stems.ToDictionary(s => s, s => s + ".npy");
        bool same = item[field] is JsonObject files && files.Count == expected.Count
                    && files.All(f => expected.TryGetValue(f.Key, out string? file) && f.Value is JsonValue v && v.TryGetValue(out string? given) && given == file);
        if (!same)
            throw new InvalidDataException($"{where}: {field} must be {{{string.Join(", ", expected.Select(e => $"\"{e.Key}\": \"{e.Value}\""))}}}.");
    }
}
