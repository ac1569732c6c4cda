using System.CommandLine;
using BatchNorm.Cli.Html;
using BatchNorm.Harness;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary>
/// What <c>verify</c> and <c>check</c> print and write, the same for both: a table (one row per case, or per
/// output), each failing case's report, the JSON, Markdown, JUnit and HTML files asked for, and one summary line.
/// </summary>
internal sealed record RunReport(string SuiteName, int Seed, (int K, int N)? Shard, bool AllOutputs, FileInfo? Json, FileInfo? Markdown, FileInfo? JUnit, FileInfo? Html)
{
    /// <summary>The report options both commands take.</summary>
    internal sealed class Options
    {
        public Option<FileInfo?> Json { get; } = new("--json") { Description = "Write every case and output as JSON." };

        public Option<FileInfo?> Markdown { get; } = new("--markdown") { Description = "Write the tolerance table as Markdown (TOLERANCES.md)." };

        public Option<FileInfo?> JUnit { get; } = new("--junit") { Description = "Write JUnit XML, one testcase per case." };

        public Option<FileInfo?> Html { get; } = new("--html") { Description = "Write a self-contained HTML report: plots of error against bound, each failing case's diagnosis and damage map, a sortable case table." };

        public Option<bool> AllOutputs { get; } = new("--all-outputs") { Description = "One table row per output instead of per case." };

        public Option<(int K, int N)?> Shard { get; } = ShardOption();

        public void AddTo(Command command)
        {
            command.Options.Add(Json);
            command.Options.Add(Markdown);
            command.Options.Add(JUnit);
            command.Options.Add(Html);
            command.Options.Add(AllOutputs);
            command.Options.Add(Shard);
        }

        /// <summary>Checks the report paths before any case runs (exit 2 when one cannot be written).</summary>
        public RunReport Bind(ParseResult parse, string suiteName, int seed)
        {
            var report = new RunReport(suiteName, seed, parse.GetValue(Shard), parse.GetValue(AllOutputs), parse.GetValue(Json), parse.GetValue(Markdown), parse.GetValue(JUnit), parse.GetValue(Html));
            (string Option, FileInfo? File)[] files = [("--json", report.Json), ("--markdown", report.Markdown), ("--junit", report.JUnit), ("--html", report.Html)];
            ReportFiles.Check(files);
            return report;
        }
    }

    /// <summary>--shard K/N, as verify, check and export take it.</summary>
    public static Option<(int K, int N)?> ShardOption() => new("--shard")
    {
        Description = "Shard K of N (K/N, 1 <= K <= N): the cases whose name hashes to K-1 mod N. The N shards together are the suite.",
        CustomParser = result =>
        {
            string token = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
            if (Verifier.ParseShard(token) is { } shard)
                return shard;
            result.AddError($"--shard {token}: must be K/N with 1 <= K <= N, e.g. 2/4.");
            return null;
        },
    };

    /// <summary>
    /// Prints and writes everything; the exit code: 0 when every case passed, 1 otherwise. <paramref name="ratchet"/>
    /// says what the accuracy ratchet held the run to (or that it held it to nothing): printed after the summary and
    /// written in the JSON and JUnit reports; null where there is no ratchet (check).
    /// </summary>
    public int Write(IAnsiConsole console, string kernel, IReadOnlyList<CaseResult> results, string? ratchet = null)
    {
        WriteTable(console, results, AllOutputs);

        // Plain writes: a failure's lines are for grep and CI logs, never wrapped at the console width.
        foreach (var result in results.Where(r => r.Verdict != Verdict.Passed))
            Console.Out.WriteLine(TextReport.Failure(result));
        ReportFiles.WriteAll(
            (Json, () => JsonReport.Render(kernel, SuiteName, Seed, results, ratchet)),
            (Markdown, () => MarkdownReport.Render(kernel, SuiteName, Seed, results)),
            (JUnit, () => JUnitReport.Render(kernel, SuiteName, results, ratchet)),
            (Html, () => HtmlReport.Render(kernel, SuiteName, Shard, Seed, results, ratchet)));

        Console.Out.WriteLine(TextReport.Summary(kernel, SuiteName, Shard, Seed, results));
        if (ratchet is not null)
            Console.Out.WriteLine($"Ratchet: {ratchet}.");
        return results.All(r => r.Verdict == Verdict.Passed) ? ExitCodes.Passed : ExitCodes.Failed;
    }

    /// <summary>
    /// The case table: on a terminal it fits the terminal's width, its verdicts coloured, with the legend under it;
    /// redirected (a pipe, a CI log) it is plain text of every column, no trailing spaces, no legend (the README and
    /// <c>verify --help</c> carry it).
    /// </summary>
    private static void WriteTable(IAnsiConsole console, IReadOnlyList<CaseResult> results, bool allOutputs)
    {
        bool terminal = console.Profile.Capabilities.Interactive;
        foreach (string line in CaseTable.Lines(results, allOutputs, terminal ? console.Profile.Width : null, markup: terminal))
        {
            if (terminal)
                console.MarkupLine(line);
            else
                Console.Out.WriteLine(line);
        }

        if (terminal)
            console.WriteLine(CaseTable.Legend);
    }
}
