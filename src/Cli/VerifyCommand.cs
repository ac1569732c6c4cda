using System.CommandLine;
using System.Globalization;
using BatchNorm.Harness;
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
    /// <summary>Everything <c>verify</c> was asked to do.</summary>
    private sealed record VerifyOptions(string? Kernel, FileInfo? KernelAssembly, Suite Suite, int Seed, string? Case, int Threads, FileInfo? Json, FileInfo? Markdown, FileInfo? JUnit,
        FileInfo? Baseline, bool UpdateBaseline, bool AllOutputs, string? ExpectWidth, (int K, int N)? Shard)
    {
        public string SuiteName => Suite.ToString().ToLowerInvariant();
    }

    /// <summary>The most threads --threads accepts: far more than any core count, small enough to be a typo when exceeded.</summary>
    public const int MaxThreads = 1024;

    public static Command Create()
    {
        var kernel = new Option<string?>("--kernel") { Description = "Kernel to verify (see 'bnverify kernels'); default: optimized, or the only kernel of --kernel-assembly." };
        var kernelAssembly = new Option<FileInfo?>("--kernel-assembly")
        {
            Description = "Verify a kernel of your own build: a .dll with public classes implementing IBatchNormKernel (public parameterless constructor); --kernel picks one by name.",
        };
        var suite = new Option<string>("--suite") { Description = "quick (every CI run) or full (before a release).", DefaultValueFactory = _ => "quick" };
        suite.AcceptOnlyFromAmong("quick", "full");
        var seed = StrictNumbers.Int("--seed", "Suite seed; the accuracy ratchet applies at the default seed only.", int.MinValue, int.MaxValue, Battery.DefaultSeed);
        var caseName = new Option<string?>("--case") { Description = "Run only this case (or every case whose name starts with it followed by '/')." };
        var threads = StrictNumbers.Int("--threads", $"Threads for the optimized kernels: 0 for all cores, or 1 to {MaxThreads}.", 0, MaxThreads, 0,
            $"0 (all cores) or 1 to {MaxThreads}");
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
        var shard = new Option<(int K, int N)?>("--shard")
        {
            Description = "Run shard K of N (K/N, 1 <= K <= N): the cases whose name hashes to K-1 mod N. The N shards together are the suite.",
            CustomParser = result =>
            {
                string token = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
                string[] parts = token.Split('/');
                if (parts.Length == 2 && int.TryParse(parts[0], System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out int k)
                    && int.TryParse(parts[1], System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && k >= 1 && k <= n)
                    return (k, n);
                result.AddError($"--shard {token}: must be K/N with 1 <= K <= N, e.g. 2/4.");
                return null;
            },
        };
        var command = new Command("verify", "Verify a kernel against the double-precision reference on a battery of cases. Exit 0: all passed; 1: a case failed or was mistrusted; 2: bad usage.")
        {
            kernel, kernelAssembly, suite, seed, caseName, threads, json, markdown, junit, baseline, update, allOutputs, expectWidth, shard,
        };
        command.SetAction(parse => Run(new VerifyOptions(
            parse.GetValue(kernel), parse.GetValue(kernelAssembly), parse.GetValue(suite) == "full" ? Suite.Full : Suite.Quick, parse.GetValue(seed), parse.GetValue(caseName),
            parse.GetValue(threads), parse.GetValue(json), parse.GetValue(markdown), parse.GetValue(junit), parse.GetValue(baseline),
            parse.GetValue(update), parse.GetValue(allOutputs), parse.GetValue(expectWidth), parse.GetValue(shard))));
        return command;
    }

    /// <summary>Checks every input and output path, runs the cases, reports, and applies the ratchet. Usage errors throw <see cref="UsageException"/> before any case runs.</summary>
    private static int Run(VerifyOptions options)
    {
        var console = ConsoleOutput.Create();
        ReportFiles.Check(("--json", options.Json), ("--markdown", options.Markdown), ("--junit", options.JUnit));
        string? baselinePath = options.Baseline?.FullName ?? AccuracyBaseline.Locate();
        if (options.UpdateBaseline && baselinePath is not null)
            ReportFiles.Check(("--baseline", new FileInfo(baselinePath)));
        var kernel = options.KernelAssembly is { } assembly
            ? UserKernelAssembly.Load(assembly.FullName).Create(options.Kernel)
            : KernelCatalog.Create(options.Kernel ?? "optimized", options.Threads);
        var baseline = baselinePath is null ? AccuracyBaseline.Empty() : AccuracyBaseline.Load(baselinePath);
        var cases = Verifier.Select(options.Suite, options.Case);
        if (cases.Count == 0)
            throw new UsageException($"--case {options.Case}: no case has that name or starts with it followed by '/'.");
        if (options.Shard is var (k, n))
        {
            if (options.UpdateBaseline)
                throw new UsageException($"--shard {k}/{n}: cannot be combined with --update-baseline, which records a whole suite.");
            cases = Verifier.Shard(cases, k, n);
        }
        if (CheckWidth(console, kernel, options) is { } exit)
            return exit;

        var results = RunWithProgress(console, kernel, cases, options.Seed)
            .Select(r => options.KernelAssembly is { } assembly ? r with { ReproduceWith = $"{r.Reproducer} --kernel-assembly {assembly.FullName}" } : r)
            .Select(r => options.UpdateBaseline ? r : r with { Regressions = baseline.Regressions(options.Suite, r) })
            .ToList();
        Report(console, kernel, options, results);
        bool allPassed = results.All(r => r.Verdict == Verdict.Passed);
        if (options.UpdateBaseline)
        {
            if (!allPassed || baselinePath is null)
            {
                Console.Error.WriteLine(baselinePath is null ? "no baseline file: run from the repository or pass --baseline." : "not re-baselined: a case did not pass.");
                return ExitCodes.Failed;
            }

            baseline.Record(options.Suite, kernel.Name, options.Seed, results);
            baseline.Save(baselinePath);
            console.WriteLine($"Recorded {kernel.Name}'s errors on suite {options.SuiteName} in {baselinePath}.");
        }

        return allPassed ? ExitCodes.Passed : ExitCodes.Failed;
    }

    /// <summary>Prints the width and threads an optimized kernel really uses; enforces --expect-width. An exit code, or null to go on.</summary>
    private static int? CheckWidth(IAnsiConsole console, IBatchNormKernel kernel, VerifyOptions options)
    {
        if (kernel is OptimizedKernel optimized)
        {
            console.WriteLine($"{kernel.Name} runs at {optimized.Width} on this machine, {optimized.Threads} thread(s).");
            string resolved = optimized.Width == BatchNorm.Optimized.VectorWidth.Scalar ? "scalar" : ((int)optimized.Width).ToString(CultureInfo.InvariantCulture);
            if (options.ExpectWidth is not null && options.ExpectWidth != resolved)
            {
                Console.Error.WriteLine($"--expect-width {options.ExpectWidth}: the kernel resolved to {resolved}; the runtime did not apply the requested hardware restriction.");
                return ExitCodes.Failed;
            }
        }
        else if (options.ExpectWidth is not null)
        {
            throw new UsageException($"--expect-width {options.ExpectWidth}: applies to the optimized kernels, not to {kernel.Name}.");
        }

        return null;
    }

    /// <summary>The table, each failure's report, the report files (written whole), and the summary line.</summary>
    private static void Report(IAnsiConsole console, IBatchNormKernel kernel, VerifyOptions options, IReadOnlyList<CaseResult> results)
    {
        console.Write(Table(results, options.AllOutputs));
        foreach (var result in results.Where(r => r.Verdict != Verdict.Passed))
            console.WriteLine(TextReport.Failure(result));
        if (options.Json is { } json)
            ReportFiles.Write(json, JsonReport.Render(kernel.Name, options.SuiteName, options.Seed, results));
        if (options.Markdown is { } markdown)
            ReportFiles.Write(markdown, MarkdownReport.Render(kernel.Name, options.SuiteName, options.Seed, results));
        if (options.JUnit is { } junit)
            ReportFiles.Write(junit, JUnitReport.Render(kernel.Name, options.SuiteName, results));

        int passed = results.Count(r => r.Verdict == Verdict.Passed), failed = results.Count(r => r.Verdict == Verdict.Failed);
        int mistrusted = results.Count(r => r.Verdict == Verdict.Mistrusted);
        string shard = options.Shard is var (k, n) ? string.Create(CultureInfo.InvariantCulture, $", shard {k}/{n}") : "";
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{kernel.Name}, suite {options.SuiteName}{shard}, seed {options.Seed}: {passed} passed, {failed} failed, {mistrusted} mistrusted; worst headroom {ReportFormat.Short(results.Max(r => r.WorstRatio))}."));
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
