using System.CommandLine;
using System.Globalization;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Ratchet;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary><c>bnverify verify</c>: the CI gate.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var kernel = new Option<string>("--kernel") { Description = "Kernel to verify (see 'bnverify kernels').", DefaultValueFactory = _ => "optimized" };
        var suite = new Option<string>("--suite") { Description = "quick (every CI run) or full (before a release).", DefaultValueFactory = _ => "quick" };
        suite.AcceptOnlyFromAmong("quick", "full");
        var seed = new Option<int>("--seed") { Description = "Suite seed; the accuracy ratchet applies at the default seed only.", DefaultValueFactory = _ => Battery.DefaultSeed };
        var caseName = new Option<string?>("--case") { Description = "Run only this case (or every case whose name starts with it followed by '/')." };
        var threads = new Option<int>("--threads") { Description = "Degree of parallelism for the optimized kernels (0: all cores).", DefaultValueFactory = _ => 0 };
        var json = new Option<FileInfo?>("--json") { Description = "Write every case and output as JSON." };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Write the tolerance table as Markdown (TOLERANCES.md)." };
        var junit = new Option<FileInfo?>("--junit") { Description = "Write JUnit XML, one testcase per case." };
        var baseline = new Option<FileInfo?>("--baseline") { Description = $"Accuracy baseline (default: {AccuracyBaseline.FileName} at the repository root)." };
        var update = new Option<bool>("--update-baseline") { Description = "Record this run's errors as the kernel's new baseline (only when every case passes)." };
        var allOutputs = new Option<bool>("--all-outputs") { Description = "One table row per output instead of per case." };
        var expectWidth = new Option<string?>("--expect-width")
        {
            Description = "Fail (exit 1) unless the optimized kernel resolves to this width: scalar, 128, 256 or 512. For CI runs that restrict the hardware.",
        };
        expectWidth.AcceptOnlyFromAmong("scalar", "128", "256", "512");
        var command = new Command("verify", "Verify a kernel against the double-precision reference on a battery of cases. Exit 0: all passed; 1: a case failed or was mistrusted; 2: bad usage.")
        {
            kernel, suite, seed, caseName, threads, json, markdown, junit, baseline, update, allOutputs, expectWidth,
        };
        command.SetAction(parse => Run(
            parse.GetValue(kernel)!, parse.GetValue(suite) == "full" ? Suite.Full : Suite.Quick, parse.GetValue(seed), parse.GetValue(caseName),
            parse.GetValue(threads), parse.GetValue(json), parse.GetValue(markdown), parse.GetValue(junit), parse.GetValue(baseline),
            parse.GetValue(update), parse.GetValue(allOutputs), parse.GetValue(expectWidth)));
        return command;
    }

    private static int Run(string kernelName, Suite suite, int seed, string? caseName, int threads, FileInfo? json, FileInfo? markdown, FileInfo? junit,
        FileInfo? baselineFile, bool update, bool allOutputs, string? expectWidth)
    {
        var console = ConsoleOutput.Create();
        IBatchNormKernel kernel;
        AccuracyBaseline baseline;
        string? baselinePath = baselineFile?.FullName ?? AccuracyBaseline.Locate();
        try
        {
            kernel = KernelCatalog.Create(kernelName, threads);
            baseline = baselinePath is null ? AccuracyBaseline.Empty() : AccuracyBaseline.Load(baselinePath);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or NotSupportedException)
        {
            Console.Error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }

        var cases = Verifier.Select(suite, caseName);
        if (cases.Count == 0)
        {
            Console.Error.WriteLine($"no case is named '{caseName}'.");
            return ExitCodes.Usage;
        }

        string suiteName = suite.ToString().ToLowerInvariant();
        if (kernel is OptimizedKernel optimized)
        {
            console.WriteLine($"{kernel.Name} runs at {optimized.Width} on this machine, {(threads <= 0 ? Environment.ProcessorCount : threads)} thread(s).");
            string resolved = optimized.Width == BatchNorm.Optimized.VectorWidth.Scalar ? "scalar" : ((int)optimized.Width).ToString(CultureInfo.InvariantCulture);
            if (expectWidth is not null && expectWidth != resolved)
            {
                Console.Error.WriteLine($"--expect-width {expectWidth}: the kernel resolved to {resolved}; the runtime did not apply the requested hardware restriction.");
                return ExitCodes.Failed;
            }
        }
        else if (expectWidth is not null)
        {
            Console.Error.WriteLine($"--expect-width applies to the optimized kernels, not to {kernel.Name}.");
            return ExitCodes.Usage;
        }
        var results = RunWithProgress(console, kernel, cases, seed)
            .Select(r => update ? r : r with { Regressions = baseline.Regressions(suite, r) })
            .ToList();

        console.Write(Table(results, allOutputs));
        foreach (var result in results.Where(r => r.Verdict != Verdict.Passed))
            console.WriteLine(TextReport.Failure(result));

        json?.Directory?.Create();
        if (json is not null)
            File.WriteAllText(json.FullName, JsonReport.Render(kernel.Name, suiteName, seed, results));
        if (markdown is not null)
            File.WriteAllText(markdown.FullName, MarkdownReport.Render(kernel.Name, suiteName, seed, results));
        if (junit is not null)
            File.WriteAllText(junit.FullName, JUnitReport.Render(kernel.Name, suiteName, results));

        int passed = results.Count(r => r.Verdict == Verdict.Passed), failed = results.Count(r => r.Verdict == Verdict.Failed);
        int mistrusted = results.Count(r => r.Verdict == Verdict.Mistrusted);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{kernel.Name}, suite {suiteName}, seed {seed}: {passed} passed, {failed} failed, {mistrusted} mistrusted; worst headroom {ReportFormat.Short(results.Max(r => r.WorstRatio))}."));
        bool allPassed = passed == results.Count;
        if (update)
        {
            if (!allPassed || baselinePath is null)
            {
                Console.Error.WriteLine(baselinePath is null ? "no baseline file: run from the repository or pass --baseline." : "not re-baselined: a case did not pass.");
                return ExitCodes.Failed;
            }

            baseline.Record(suite, kernel.Name, seed, results);
            baseline.Save(baselinePath);
            console.WriteLine($"Recorded {kernel.Name}'s errors on suite {suiteName} in {baselinePath}.");
        }

        return allPassed ? ExitCodes.Passed : ExitCodes.Failed;
    }

    private static IReadOnlyList<CaseResult> RunWithProgress(IAnsiConsole console, IBatchNormKernel kernel, IReadOnlyList<VerificationCase> cases, int seed)
    {
        if (!console.Profile.Capabilities.Interactive)
            return Verifier.Run(kernel, cases, seed);
        IReadOnlyList<CaseResult> results = [];
        console.Progress().Start(context =>
        {
            var task = context.AddTask($"verify {kernel.Name}", maxValue: cases.Count);
            results = Verifier.Run(kernel, cases, seed, r =>
            {
                task.Description = $"verify {kernel.Name}: {r.Case.Name}";
                task.Increment(1);
            });
        });
        return results;
    }

    private static Table Table(IReadOnlyList<CaseResult> results, bool allOutputs)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (string column in new[] { "case", "output", "max abs", "max rel", "max ULP", "headroom", "systematic", "residual", "verdict" })
            table.AddColumn(column);
        foreach (var result in results)
        {
            var rows = allOutputs ? result.Outputs : result.Outputs.OrderByDescending(o => o.WorstRatio).Take(1);
            foreach (var output in rows)
            {
                string verdict = result.Verdict switch
                {
                    Verdict.Passed => "[green]passed[/]",
                    Verdict.Mistrusted => "[yellow]mistrusted[/]",
                    Verdict.Failed => "[red]FAILED[/]",
                    _ => throw new InvalidOperationException($"no rendering for verdict {result.Verdict}"),
                };
                table.AddRow(Markup.Escape(result.Case.Name), output.Output.Name(), ReportFormat.Short(output.MaxAbsoluteError), ReportFormat.Short(output.MaxRelativeError),
                    ReportFormat.Ulps(output.MaxUlps), ReportFormat.Short(output.WorstRatio), ReportFormat.Optional(output.SystematicRatio),
                    ReportFormat.Optional(output.ResidualRatio), verdict);
            }
        }

        return table;
    }
}
