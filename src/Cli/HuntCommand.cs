using System.CommandLine;
using System.Globalization;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Reports;
using BatchNorm.Hunt;
using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary><c>bnverify hunt</c>: search a kernel for a failing case, shrink it, and write it as a case file.</summary>
internal static class HuntCommand
{
    /// <summary>The longest --budget: a day; anything longer is a typo.</summary>
    private static readonly TimeSpan MaxBudget = TimeSpan.FromDays(1);

    public static Command Create()
    {
        var kernel = new Option<string?>("--kernel") { Description = "Kernel to hunt in (see 'bnverify kernels'); default: optimized, or the only kernel of --kernel-assembly." };
        var kernelAssembly = new Option<FileInfo?>("--kernel-assembly") { Description = "A .dll with public classes implementing IBatchNormKernel; --kernel picks one by name." };
        var adapter = new AdapterOption();
        var activation = new Option<string>("--activation")
        {
            Description = "Draw cases with this activation: none, relu, or all (every one the kernel fuses).",
            DefaultValueFactory = _ => "all",
        };
        activation.AcceptOnlyFromAmong("all", "none", "relu");
        var seed = StrictNumbers.Int("--seed", "Makes the search repeatable: the same seed draws the same cases in the same order.", 0, int.MaxValue, 1, "0 to 2147483647");
        var budget = new Option<string>("--budget") { Description = "Time to search: N s, N m or N h, e.g. 60s, 10m (shrinking may take as long again).", DefaultValueFactory = _ => "60s" };
        var cases = StrictNumbers.Int("--cases", "Stop after this many cases (0: only the budget stops it).", 0, int.MaxValue, 0, "0 to 2147483647");
        var threads = StrictNumbers.Int("--threads", $"Threads for the optimized kernels: 0 for all cores, or 1 to {VerifyCommand.MaxThreads}.", 0, VerifyCommand.MaxThreads, 0,
            $"0 (all cores) or 1 to {VerifyCommand.MaxThreads}");
        var contract = ContractOption.Create("Judge the kernel by this contract instead of the one it declares.");
        var output = new Option<FileInfo?>("--out") { Description = "Write the minimal failing case here (default: bnverify-hunt/NAME.json, or into --corpus)." };
        var keepGoing = new Option<bool>("--keep-going")
        {
            Description = "Search for the whole budget instead of stopping at the first failure: the first case of each distinct finding (output, bug kind, violation) is shrunk and written into the folder.",
        };
        var corpus = new Option<DirectoryInfo?>("--corpus") { Description = "Write the minimal failing case into this folder, which 'verify --corpus' replays: a found bug becomes a regression case." };
        var command = new Command("hunt",
            "Search a kernel for a failing case on generated inputs (shapes at every vector width and tail, every pass, value family, option and activation), " +
            "shrink the first failure to a minimal case with the same finding, and write it as a case file 'verify --case-file' replays. " +
            "Exit 0: nothing failed within the budget; 1: a case failed; 2: bad usage.")
        {
            kernel, kernelAssembly, activation, seed, budget, cases, threads, contract, output, corpus, keepGoing,
        };
        adapter.AddTo(command);
        command.SetAction(parse =>
        {
            var time = ParseBudget(parse.GetValue(budget)!);
            var outputFile = parse.GetValue(output);
            var corpusFolder = parse.GetValue(corpus);
            if (outputFile is not null && parse.GetValue(keepGoing))
                throw new UsageException($"--out {outputFile}: --keep-going writes a case file for each finding, into --corpus or {DefaultFolder}/, not one file.");
            if (outputFile is not null && corpusFolder is not null)
                throw new UsageException($"--out {outputFile}: give --out or --corpus, not both; --corpus names the file after the case.");
            // Where the case file will go, checked before any case runs: the file --out names, or a file in the folder.
            string folder = corpusFolder?.FullName ?? Path.GetFullPath(DefaultFolder);
            ReportFiles.Check((outputFile is null ? corpusFolder is null ? "the case file's folder" : "--corpus" : "--out", outputFile ?? new FileInfo(Path.Combine(folder, "case.json"))));
            string? given = adapter.Command(parse, parse.GetValue(kernel) is not null || parse.GetValue(kernelAssembly) is not null);
            var chosen = adapter.Load(parse, given, () => VerifyCommand.LoadKernel(parse.GetValue(kernel), parse.GetValue(kernelAssembly), parse.GetValue(threads)));
            try
            {
                var activations = Activations(parse.GetValue(activation)!, chosen);
                var options = new HuntOptions((ulong)parse.GetValue(seed), time, parse.GetValue(cases) is > 0 and int n ? n : null, activations, parse.GetValue(contract), parse.GetValue(keepGoing));
                return Run(chosen, options, parse.GetValue(seed), outputFile, folder, given);
            }
            finally
            {
                (chosen as IDisposable)?.Dispose();
            }
        });
        return command;
    }

    /// <summary>"60s", "10m", "2h" (a whole number and a unit) as a time, positive and at most a day.</summary>
    /// <exception cref="UsageException">Anything else; the message gives the rule.</exception>
    public static TimeSpan ParseBudget(string text)
    {
        const string Rule = "a whole number and s, m or h, e.g. 60s or 10m, at most 24h";
        if (text.Length >= 2 && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0)
        {
            TimeSpan? time = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(count),
                'm' => TimeSpan.FromMinutes(count),
                'h' => TimeSpan.FromHours(count),
                _ => null,
            };
            if (time is { } t && t <= MaxBudget)
                return t;
        }

        throw new UsageException($"--budget {text}: must be {Rule}.");
    }

    private static IReadOnlyList<Activation> Activations(string name, IBatchNormKernel kernel)
    {
        if (name == "all")
            return [.. Enum.GetValues<Activation>().Where(kernel.Supports)];
        var activation = ActivationOption.Parse(name);
        return kernel.Supports(activation) ? [activation]
            : throw new UsageException($"--activation {name}: kernel {kernel.Name} does not fuse it (IBatchNormKernel.Supports is false).");
    }

    /// <summary>Where a found case is written without --out or --corpus, under the current folder.</summary>
    private const string DefaultFolder = "bnverify-hunt";

    private static int Run(IBatchNormKernel kernel, HuntOptions options, int seed, FileInfo? output, string folder, string? adapter)
    {
        var console = ConsoleOutput.Create();
        string limit = options.MaxCases is { } max ? string.Create(CultureInfo.InvariantCulture, $" or {max} cases") : "";
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hunt {kernel.Name}: seed {seed}, budget {options.Budget.TotalSeconds:0} s{limit}, activations {string.Join(", ", options.Activations.Select(a => a.Short()))}, data {kernel.Precision.ShortName()}, " +
            $"contract {options.Contract ?? Contracts.Of(kernel)}."));
        var result = RunWithProgress(console, kernel, options);
        if (result.Refused > 0)
            Console.Out.WriteLine($"{result.Refused} case(s) refused by the kernel (ArgumentException), each one a correct kernel takes; first: {result.FirstRefusal}");
        if (result.First is null)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hunt {kernel.Name}: {result.CasesRun} cases in {result.Searched.TotalSeconds:0.0} s ({result.CasesRun / Math.Max(result.Searched.TotalSeconds, 1e-3):0.0} cases/s), seed {seed}: none failed."));
            return ExitCodes.Passed;
        }

        foreach (var finding in result.Findings)
            Report(kernel, finding, output?.FullName ?? Path.Combine(folder, FileName(finding.Minimal.Case.Name)), adapter);
        if (options.KeepGoing)
        {
            string findings = string.Join("; ", result.Findings.Select(f => $"{Finding.Of(f.Minimal)} ({f.Cases.ToString(CultureInfo.InvariantCulture)} case(s))"));
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hunt {kernel.Name}: {result.CasesRun} cases in {result.Searched.TotalSeconds:0.0} s, seed {seed}: {result.Findings.Sum(f => f.Cases)} failed, {result.Findings.Count} distinct finding(s): {findings}"));
        }

        return ExitCodes.Failed;
    }

    /// <summary>One finding: where it was found, how it shrank, the minimal case's report and its case file.</summary>
    private static void Report(IBatchNormKernel kernel, HuntFinding finding, string path, string? adapter)
    {
        var minimal = finding.Minimal;
        AtomicFile.WriteAll([(path, CaseFile.Render(minimal.Case, kernel.Name, Finding.Of(minimal).ToString()))]);
        string reproducer = CaseFiles.Reproducer(kernel.Name, path);
        minimal = minimal with { ReproduceWith = adapter is null ? reproducer : AdapterOption.Reproducer(reproducer, kernel.Name, adapter) };
        var first = finding.First;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hunt {kernel.Name}: case {finding.CaseNumber} failed after {finding.TimeToFirst.TotalSeconds:0.0} s: {first.Case.Describe()}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"shrunk in {finding.ShrinkSteps} steps ({finding.Shrinking.TotalSeconds:0.0} s{(finding.ShrinkCut ? ", cut at the time limit" : "")}) from {first.Case.Shape.ElementCount} to {minimal.Case.Shape.ElementCount} elements, keeping {Finding.Of(minimal)}:"));
        Console.Out.WriteLine(TextReport.Failure(minimal));
        if (Finding.Of(minimal).Violation)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"a violation may be nondeterministic: each shrink was kept only where {Hunter.ViolationJudgings} judgings in a row showed it, and a replay can still pass by chance."));
        }

        Console.Out.WriteLine($"case file: {path}");
    }

    /// <summary>A case's name as a file name: its '/' become '-'.</summary>
    private static string FileName(string caseName) => caseName.Replace('/', '-') + ".json";

    private static HuntResult RunWithProgress(IAnsiConsole console, IBatchNormKernel kernel, HuntOptions options)
    {
        if (!console.Profile.Capabilities.Interactive)
            return Hunter.Run(kernel, options);
        HuntResult result = null!;
        console.Status().Start($"hunt {kernel.Name}", context => result = Hunter.Run(kernel, options, (run, r) =>
            context.Status(string.Create(CultureInfo.InvariantCulture, $"hunt {kernel.Name}: {run} cases; last {r.Case.Name} ({r.Case.Shape}) {r.Verdict}"))));
        return result;
    }
}
