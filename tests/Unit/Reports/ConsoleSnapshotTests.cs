using Shouldly;
using Xunit;

namespace BatchNorm.Tests.Unit.Reports;

/// <summary>
/// What verify prints, as a person sees it on terminals 80, 120 and 200 columns wide and as a CI log gets it redirected:
/// approved snapshots (Shouldly; a change prints the cp command that approves it). The run is a planted bug on a few
/// cases, passing and failing, with the SIMD paths switched off so every machine prints the same numbers.
/// </summary>
public class ConsoleSnapshotTests
{
    private static readonly Dictionary<string, string> ScalarOnly = new() { ["DOTNET_EnableHWIntrinsic"] = "0" };

    private static readonly string[] Arguments = ["verify", "--kernel", "faulty:one-pass-variance", "--case", "large-mean-1e4", "--threads", "1"];

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    [InlineData(200)]
    public void OnATerminal(int columns)
    {
        string screen = Portable(TerminalScreen.Run(columns, ScalarOnly, Arguments));
        // The table (a header, a rule, 4 cases) and the legend under it fit the terminal; the failure details below
        // them are long lines the terminal wraps.
        string[] lines = screen.Split('\n');
        string[] table = [.. lines.SkipWhile(l => !l.StartsWith("case ", StringComparison.Ordinal)).TakeWhile(l => !l.Contains(" FAILED: ", StringComparison.Ordinal))];
        Assert.Contains(table, l => l.StartsWith("error/bound: ", StringComparison.Ordinal));
        Assert.All(table, l => Assert.True(l.Length <= columns, $"{l.Length} columns: {l}"));
        Assert.DoesNotContain("━", screen); // the progress bar was erased
        screen.ShouldMatchApproved(b => b.WithDiscriminator(columns + "-columns").SubFolder("Approved").LocateTestMethodUsingAttribute<TheoryAttribute>());
    }

    [Fact]
    public void Redirected()
    {
        var run = Bnverify.RunWith(ScalarOnly, Arguments);
        Assert.Equal(1, run.ExitCode);
        string output = Portable(run.Output.TrimEnd('\n'));
        Assert.All(output.Split('\n'), l => Assert.Equal(l.TrimEnd(), l));
        output.ShouldMatchApproved(b => b.SubFolder("Approved").LocateTestMethodUsingAttribute<FactAttribute>());
    }

    /// <summary>The repository's path, which differs between clones, as &lt;repository&gt;.</summary>
    private static string Portable(string text) => text.Replace(Bnverify.RepositoryRoot(), "<repository>", StringComparison.Ordinal);
}
