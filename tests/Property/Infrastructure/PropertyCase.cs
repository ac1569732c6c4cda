using System.Globalization;
using System.Text;
using BatchNorm.Harness.Cases;

namespace BatchNorm.Tests.Property.Infrastructure;

/// <summary>
/// One generated batch norm call with every value materialized, so FsCheck can shrink it and a
/// counterexample can be written to a file and replayed. Empty gamma or beta mean absent.
/// </summary>
internal sealed record PropertyCase(TensorShape Shape, BatchNormOptions Options, float[] X, float[] Gamma, float[] Beta, float[] Dy, float[] RunningMean, float[] RunningVariance)
{
    /// <summary>Training updates running statistics unless the convention refuses M = 1 (then it passes none).</summary>
    public bool WithRunningStats => !(Shape.M == 1 && RunningStatsRule.UsesUnbiasedVariance(Options.Convention));

    /// <summary>The case as the harness runs it for one pass.</summary>
    public VerificationCase ToCase(BatchNormPass pass) => new()
    {
        Name = "property",
        Shape = Shape,
        Pass = pass,
        Options = Options,
        WithRunningStats = WithRunningStats,
        Gamma = Gamma.Length == 0 ? GammaKind.Absent : GammaKind.Random,
        WithBeta = Beta.Length > 0,
        AboutZeros = true,
    };

    /// <summary>The inputs, with the saved statistics a forward pass would hand over.</summary>
    public CaseInputs ToInputs() => new CaseInputs
    {
        X = X,
        Gamma = Gamma,
        Beta = Beta,
        RunningMean = RunningMean,
        RunningVariance = RunningVariance,
        Dy = Dy,
        SavedMean = [],
        SavedInvStd = [],
    }.WithSavedStatistics(Shape, Options);

    /// <summary>The same call with a ReLU fused (the backward passes then get the forward's y).</summary>
    public PropertyCase WithRelu() => this with { Options = Options with { Activation = Activation.Relu } };

    /// <summary>The first n samples, c channels and s positions, in the same layout.</summary>
    public PropertyCase Slice(int n, int c, int s, int firstChannel = 0, int firstSample = 0)
    {
        var shape = new TensorShape(n, c, s, Shape.Layout);
        float[] Take(float[] t)
        {
            float[] result = new float[shape.ElementCount];
            for (int ni = 0; ni < n; ni++)
            {
                for (int ci = 0; ci < c; ci++)
                {
                    for (int si = 0; si < s; si++)
                        result[shape.IndexOf(ni, ci, si)] = t[Shape.IndexOf(ni + firstSample, ci + firstChannel, si)];
                }
            }

            return result;
        }

        float[] Channels(float[] v) => v.Length == 0 ? v : v[firstChannel..(firstChannel + c)];
        return this with
        {
            Shape = shape,
            X = Take(X),
            Dy = Take(Dy),
            Gamma = Channels(Gamma),
            Beta = Channels(Beta),
            RunningMean = Channels(RunningMean),
            RunningVariance = Channels(RunningVariance),
        };
    }

    /// <summary>The text format of tests/Property/Regressions: every value round-trips.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"shape: {Shape.N} {Shape.C} {Shape.S} {Shape.Layout.Short()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"options: {Options.Convention} {Options.Epsilon:R} {Options.Momentum:R}");
        foreach (var (name, values) in Fields())
            text.AppendLine(CultureInfo.InvariantCulture, $"{name}: {string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}");
        return text.ToString();
    }

    /// <summary>Reads the text format back (lines starting with '#' are comments).</summary>
    public static PropertyCase Parse(string text)
    {
        var fields = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        string[] shape = fields["shape"].Split(' ');
        string[] options = fields["options"].Split(' ');
        float[] Values(string name) => fields[name].Length == 0 ? [] :
            fields[name].Split(' ').Select(v => float.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        return new PropertyCase(
            new TensorShape(int.Parse(shape[0], CultureInfo.InvariantCulture), int.Parse(shape[1], CultureInfo.InvariantCulture), int.Parse(shape[2], CultureInfo.InvariantCulture),
                shape[3] == "nchw" ? Layout.ChannelsFirst : Layout.ChannelsLast),
            new BatchNormOptions(Enum.Parse<RunningStatsConvention>(options[0]), double.Parse(options[1], CultureInfo.InvariantCulture), double.Parse(options[2], CultureInfo.InvariantCulture)),
            Values("x"), Values("gamma"), Values("beta"), Values("dy"), Values("runningMean"), Values("runningVariance"));
    }

    private IEnumerable<(string Name, float[] Values)> Fields() =>
        [("x", X), ("gamma", Gamma), ("beta", Beta), ("dy", Dy), ("runningMean", RunningMean), ("runningVariance", RunningVariance)];
}
