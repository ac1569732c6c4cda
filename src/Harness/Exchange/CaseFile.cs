using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchNorm.Harness.Cases;
using static BatchNorm.Harness.Exchange.JsonFields;

namespace BatchNorm.Harness.Exchange;

/// <summary>
/// One case outside the suites, as a JSON file (format bnverify-case/1): every field of a <see cref="VerificationCase"/>
/// and the seed its inputs are drawn with, so <c>verify --case-file F</c> and <c>verify --corpus DIR</c> draw exactly
/// the inputs the run that wrote it drew. <c>hunt</c> writes one for each minimal failing case; "kernel" and "finding"
/// say where it came from and are not read back. Doubles are written in round-trip form.
/// </summary>
internal static class CaseFile
{
    public const string Format = "bnverify-case/1";

    /// <summary>The largest tensor a case file may describe: far above any case hunt draws, small enough to refuse a typo before allocating it.</summary>
    public const long MaxElements = 1L << 26;

    private static readonly string[] Fields =
    [
        "format", "name", "seed", "pass", "layout", "n", "c", "s", "convention", "eps", "momentum", "activation", "precision",
        "values", "offset", "spread", "feature", "gamma", "with_beta", "with_running_stats", "zero_dy", "about_zeros", "kernel", "finding",
    ];

    /// <summary>The case as indented JSON. <paramref name="kernel"/> and <paramref name="finding"/> are notes for the reader (null: left out).</summary>
    /// <exception cref="ArgumentException">The case has no <see cref="VerificationCase.DrawSeed"/> (a suite case replays with --case).</exception>
    public static string Render(VerificationCase @case, string? kernel = null, string? finding = null)
    {
        int seed = @case.DrawSeed ?? throw new ArgumentException($"case {@case.Name} has no draw seed of its own; a suite's case replays with --case", nameof(@case));
        var root = new JsonObject
        {
            ["format"] = Format,
            ["name"] = @case.Name,
            ["seed"] = seed,
            ["pass"] = Battery.PassName(@case.Pass),
            ["layout"] = @case.Shape.Layout.Short(),
            ["n"] = @case.Shape.N,
            ["c"] = @case.Shape.C,
            ["s"] = @case.Shape.S,
            ["convention"] = ExportManifest.ConventionName(@case.Options.Convention),
            ["eps"] = @case.Options.Epsilon,
            ["momentum"] = @case.Options.Momentum,
            ["activation"] = @case.Options.Activation.Short(),
            ["precision"] = @case.Precision.ShortName(),
            ["values"] = @case.Values.Name(),
            ["offset"] = @case.Offset,
            ["spread"] = @case.Spread,
            ["feature"] = @case.Feature.Name(),
            ["gamma"] = @case.Gamma.Name(),
            ["with_beta"] = @case.WithBeta,
            ["with_running_stats"] = @case.WithRunningStats,
            ["zero_dy"] = @case.ZeroDy,
            ["about_zeros"] = @case.AboutZeros,
        };
        if (kernel is not null)
            root["kernel"] = kernel;
        if (finding is not null)
            root["finding"] = finding;
        // System.Text.Json writes doubles in their shortest round-trip form.
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Reads a case file; every field is required but kernel and finding, and every value is checked.</summary>
    /// <exception cref="InvalidDataException">Not JSON, another format, an unknown, missing or mistyped field, or a value out of range; the message names the file, the field, the value and the rule.</exception>
    public static VerificationCase Parse(string json, string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not JSON ({e.Message})", e);
        }

        Known(root, Fields, path, "the case file", Format);
        string format = Text(root, "format", path);
        if (format != Format)
            throw new InvalidDataException($"{path}: format \"{format}\" is not {Format}.");
        string name = Text(root, "name", path);
        if (name.Length == 0 || name.Any(char.IsWhiteSpace))
            throw new InvalidDataException($"{path}: name \"{name}\" must be non-empty with no spaces.");
        int n = Positive(root, "n", path), c = Positive(root, "c", path), s = Positive(root, "s", path);
        if ((long)n * c * s > MaxElements)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: n*c*s = {(long)n * c * s} elements is over the {MaxElements} a case file may describe."));
        var options = new BatchNormOptions(
            Named(root, "convention", Enum.GetValues<RunningStatsConvention>(), ExportManifest.ConventionName, path),
            Number(root, "eps", path), Number(root, "momentum", path))
        {
            Activation = Named(root, "activation", Enum.GetValues<Activation>(), a => a.Short(), path),
        };
        try
        {
            BatchNormValidation.CheckOptions(options);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }

        var @case = new VerificationCase
        {
            Name = name,
            DrawSeed = Integer(root, "seed", path),
            Shape = new TensorShape(n, c, s, Named(root, "layout", Enum.GetValues<Layout>(), l => l.Short(), path)),
            Pass = Named(root, "pass", Enum.GetValues<BatchNormPass>(), Battery.PassName, path),
            Options = options,
            Precision = Named(root, "precision", Enum.GetValues<DataPrecision>(), p => p.ShortName(), path),
            Values = Named(root, "values", Enum.GetValues<ValueFamily>(), v => v.Name(), path),
            Offset = Finite(root, "offset", path),
            Spread = Finite(root, "spread", path),
            Feature = Named(root, "feature", Enum.GetValues<ChannelFeature>(), f => f.Name(), path),
            Gamma = Named(root, "gamma", Enum.GetValues<GammaKind>(), g => g.Name(), path),
            WithBeta = Boolean(root, "with_beta", path),
            WithRunningStats = Boolean(root, "with_running_stats", path),
            ZeroDy = Boolean(root, "zero_dy", path),
            AboutZeros = Boolean(root, "about_zeros", path),
        };
        if (!(@case.Spread > 0))
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: spread {@case.Spread:R} must be greater than 0."));
        if (CaseRules.Invalid(@case) is { } reason)
            throw new InvalidDataException($"{path}: {reason}.");
        return @case;
    }

    private static T Named<T>(JsonObject root, string field, T[] values, Func<T, string> name, string path)
    {
        string text = Text(root, field, path);
        foreach (var value in values)
        {
            if (name(value) == text)
                return value;
        }

        throw new InvalidDataException($"{path}: {field} \"{text}\" is not one of {string.Join(", ", values.Select(name))}.");
    }

    private static int Positive(JsonObject root, string field, string path)
    {
        int value = Integer(root, field, path);
        return value >= 1 ? value : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: {field} {value} must be at least 1."));
    }

    private static double Finite(JsonObject root, string field, string path)
    {
        double value = Number(root, field, path);
        return double.IsFinite(value) ? value : throw new InvalidDataException($"{path}: {field} must be finite.");
    }
}
