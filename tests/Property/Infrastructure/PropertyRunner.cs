using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace BatchNorm.Tests.Property.Infrastructure;

/// <summary>A property failed: the message holds the seed, the replay line and the shrunk counterexample.</summary>
internal sealed class PropertyFailedException(string message) : Exception(message);

/// <summary>A law or an agreement did not hold for one case.</summary>
internal sealed class LawViolation(string message) : Exception(message);

/// <summary>
/// Runs FsCheck properties inside xunit facts (FsCheck.Xunit does not restore here). The runner
/// writes to the test's output, and on failure throws with the seed, a replay line and the shrunk
/// counterexample, and writes that counterexample to tests/Property/Regressions so every later
/// run replays it.
/// </summary>
internal sealed class PropertyRunner(ITestOutputHelper output, string property, bool recordRegression) : IRunner
{
    /// <summary>Multiplies every property's case count, for long local or nightly runs (default 1).</summary>
    public const string ScaleVariable = "BNVERIFY_PROPERTY_SCALE";

    /// <summary>"seed,gamma,size" from a failure message: replays that run.</summary>
    public const string ReplayVariable = "BNVERIFY_PROPERTY_REPLAY";

    /// <summary>Set to 0 to keep failures out of the corpus (mutation testing fails properties on purpose).</summary>
    public const string RecordVariable = "BNVERIFY_PROPERTY_RECORD";

    /// <summary>The shrunk counterexample of the last failure.</summary>
    public PropertyCase? Counterexample { get; private set; }

    /// <summary>Checks a property over generated cases; throws <see cref="PropertyFailedException"/> on failure.</summary>
    public static PropertyRunner Check(ITestOutputHelper output, string property, Arbitrary<PropertyCase> cases, Action<PropertyCase> body, int maxTest = 100, bool recordRegression = true, ulong? fixedSeed = null)
    {
        var runner = new PropertyRunner(output, property, recordRegression);
        var config = Config.Quick.WithMaxTest(maxTest * Scale()).WithRunner(runner);
        if (fixedSeed is { } seed)
            config = config.WithReplay(FSharpOption<FsCheck.Replay>.Some(new FsCheck.Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));
        else if (Replay() is { } replay)
            config = config.WithReplay(FSharpOption<FsCheck.Replay>.Some(replay));
        Prop.ForAll(cases, body).Check(config);
        return runner;
    }

    public void OnStartFixture(Type t)
    {
    }

    public void OnArguments(int ntest, Microsoft.FSharp.Collections.FSharpList<object> args, FSharpFunc<int, FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string>> every)
    {
    }

    public void OnShrink(Microsoft.FSharp.Collections.FSharpList<object> args, FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string> everyShrink)
    {
    }

    public void OnFinished(string name, TestResult result)
    {
        output.WriteLine($"{property}: {Runner.onFinishedToString(name, result)}");
        if (result is TestResult.Failed failed)
        {
            Counterexample = failed.Item3.Head as PropertyCase;
            var rnd = failed.Item5;
            string replay = string.Create(CultureInfo.InvariantCulture, $"{ReplayVariable}={rnd.Seed},{rnd.Gamma},{failed.Item7}");
            bool record = recordRegression && Counterexample is not null && Environment.GetEnvironmentVariable(RecordVariable) != "0";
            string? file = record ? Record(replay) : null;
            throw new PropertyFailedException(
                $"{property} failed after {failed.Item1.NumberOfTests} tests and {failed.Item1.NumberOfShrinks} shrinks.\n" +
                $"Replay: {replay} dotnet test tests/Property -c Release\n" +
                (file is null ? "" : $"Counterexample recorded in {file} (replayed on every run).\n") +
                $"Shrunk counterexample:\n{Counterexample}\nOutcome: {failed.Item4}");
        }

        if (!result.IsPassed)
            throw new PropertyFailedException($"{property}: {Runner.onFinishedToString(name, result)}");
    }

    /// <summary>The folder of recorded counterexamples in the source tree.</summary>
    public static string RegressionFolder() => Support.Repository.PathOf("tests", "Property", "Regressions");

    private string Record(string replay)
    {
        string folder = RegressionFolder();
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, $"{property}-{Math.Abs(replay.GetHashCode(StringComparison.Ordinal)):x8}.txt");
        File.WriteAllText(path, $"# property: {property}\n# {replay}\n{Counterexample}");
        return path;
    }

    private static int Scale() =>
        int.TryParse(Environment.GetEnvironmentVariable(ScaleVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int scale) && scale > 0 ? scale : 1;

    private static FsCheck.Replay? Replay()
    {
        string? text = Environment.GetEnvironmentVariable(ReplayVariable);
        if (string.IsNullOrWhiteSpace(text))
            return null;
        string[] parts = text.Split(',');
        var rnd = new Rnd(ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture));
        var size = parts.Length > 2 ? FSharpOption<int>.Some(int.Parse(parts[2], CultureInfo.InvariantCulture)) : FSharpOption<int>.None;
        return new FsCheck.Replay(rnd, size);
    }
}
