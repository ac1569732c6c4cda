using System.CommandLine;
using System.Globalization;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Ratchet;
using BatchNorm.Harness.Verification;
using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary><c>bnverify verify</c>: the CI gate.</summary>
internal static class VerifyCommand
{
    /// <summary>Everything <c>verify</c> was asked to do.</summary>
    private sealed record VerifyOptions(string? Kernel, FileInfo? KernelAssembly, Func<IBatchNormKernel> Load, string? Adapter, Suite Suite, Activation Activation, int Seed, string? Case, int Threads,
        FileInfo? Baseline, bool UpdateBaseline, bool NewBaseline, string? ExpectWidth, NumericalContract? Contract, FileInfo[] CaseFiles, DirectoryInfo? Corpus, RunReport Report)
    {
        public string SuiteName => Suite.ToString().ToLowerInvariant();

        public (int K, int N)? Shard => Report.Shard;
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
        var activation = ActivationOption.Create();
        var seed = StrictNumbers.Int("--seed", "Suite seed; the accuracy ratchet applies at the default seed only.", int.MinValue, int.MaxValue, Battery.DefaultSeed);
        var caseName = new Option<string?>("--case") { Description = "Run only this case (or every case whose name starts with it followed by '/')." };
        var threads = StrictNumbers.Int("--threads", $"Threads for the optimized kernels: 0 for all cores, or 1 to {MaxThreads}.", 0, MaxThreads, 0,
            $"0 (all cores) or 1 to {MaxThreads}");
        var baseline = new Option<FileInfo?>("--baseline") { Description = $"Accuracy baseline (default: {AccuracyBaseline.FileName} at the repository root)." };
        var update = new Option<bool>("--update-baseline")
        {
            Description = "Record this run's errors in the kernel's baseline (only when every case passes): the cases it ran are replaced, every other recorded case is kept. " +
                          "Refused where the entry records another seed or contract.",
        };
        var replace = new Option<bool>("--new-baseline") { Description = "With --update-baseline: replace the kernel's whole entry (every case, seed and contract) with this run." };
        var expectWidth = new Option<string?>("--expect-width")
        {
            Description = "Fail (exit 1) unless the optimized kernel resolves to this width: scalar, 128, 256 or 512. For CI runs that restrict the hardware.",
        };
        expectWidth.AcceptOnlyFromAmong("scalar", "128", "256", "512");
        var caseFiles = new Option<FileInfo[]>("--case-file")
        {
            Description = "Run the case of this case file (as hunt writes them) instead of the suite; repeatable.",
            DefaultValueFactory = _ => [],
        };
        var corpus = new Option<DirectoryInfo?>("--corpus") { Description = "Also run every case file (*.json) in this folder of this run's activation and the kernel's precision: found bugs as regression cases." };
        var contract = ContractOption.Create("Judge the kernel by this contract instead of the one it declares (IBatchNormKernel.Contract; undeclared: float-pairwise/rounded-centre/folded).");
        var report = new RunReport.Options();
        var command = new Command("verify", "Verify a kernel against the double-precision reference on a battery of cases. Exit 0: all passed; 1: a case failed or was mistrusted; 2: bad usage. " +
                                              "The table's columns: " + CaseTable.Legend)
        {
            kernel, kernelAssembly, suite, activation, seed, caseName, threads, baseline, update, replace, expectWidth, contract, caseFiles, corpus,
        };
        var adapter = new AdapterOption();
        adapter.AddTo(command);
        report.AddTo(command);
        command.SetAction(parse =>
        {
            string? given = adapter.Command(parse, parse.GetValue(kernel) is not null || parse.GetValue(kernelAssembly) is not null);
            return Run(new VerifyOptions(
            parse.GetValue(kernel), parse.GetValue(kernelAssembly), () => adapter.Load(parse, given, () => LoadKernel(parse.GetValue(kernel), parse.GetValue(kernelAssembly), parse.GetValue(threads))),
            given, parse.GetValue(suite) == "full" ? Suite.Full : Suite.Quick,
            ActivationOption.Parse(parse.GetValue(activation)!), parse.GetValue(seed), parse.GetValue(caseName),
            parse.GetValue(threads), parse.GetValue(baseline), parse.GetValue(update), parse.GetValue(replace), parse.GetValue(expectWidth), parse.GetValue(contract),
            parse.GetValue(caseFiles) ?? [], parse.GetValue(corpus), report.Bind(parse, parse.GetValue(suite)!, parse.GetValue(seed))));
        });
        return command;
    }

    /// <summary>Checks every input and output path, runs the cases, reports, and applies the ratchet. Usage errors throw <see cref="UsageException"/> before any case runs.</summary>
    private static int Run(VerifyOptions options)
    {
        var console = ConsoleOutput.Create();
        string? baselinePath = options.Baseline?.FullName ?? AccuracyBaseline.Locate();
        if (options.NewBaseline && !options.UpdateBaseline)
            throw new UsageException("--new-baseline: only with --update-baseline, whose recording it makes a whole new entry.");
        if (options.UpdateBaseline && baselinePath is null)
            throw new UsageException($"--update-baseline: no baseline file to record in: run inside the repository (where {AccuracyBaseline.FileName} is) or pass --baseline FILE.");
        if (options.Baseline is { } given && !options.UpdateBaseline && !given.Exists)
            throw new UsageException($"--baseline {given.FullName}: no such file (a baseline is created only by --update-baseline).");
        if (baselinePath is not null && File.Exists(baselinePath) && !AtomicFile.IsRegularFile(baselinePath))
            throw new UsageException($"--baseline {baselinePath}: is not a regular file (a device, FIFO or socket).");
        if (options.UpdateBaseline && baselinePath is not null)
            ReportFiles.Check(("--baseline", new FileInfo(baselinePath)));
        var kernel = options.Load();
        using var adapterProcess = kernel as IDisposable; // an adapter's process ends with the run
        var baseline = LoadBaseline(baselinePath, options.Baseline is not null);
        if (!kernel.Supports(options.Activation))
            throw new UsageException($"--activation {options.Activation.Short()}: kernel {kernel.Name} does not fuse it (IBatchNormKernel.Supports is false).");
        if (options.CaseFiles.Length > 0 && (options.Case is not null || options.Shard is not null))
            throw new UsageException($"--case-file {options.CaseFiles[0]}: runs its case instead of the suite, so --case and --shard do not apply.");
        if ((options.CaseFiles.Length > 0 || options.Corpus is not null) && options.UpdateBaseline)
            throw new UsageException("--update-baseline: records a suite's cases only, not --case-file or --corpus cases.");
        var (fileCases, skipped) = CaseFiles.Load(options.CaseFiles, options.Corpus, options.Activation, kernel.Precision);
        var fileOf = fileCases.ToDictionary(f => f.Case.Name, f => f.File, StringComparer.Ordinal);
        var cases = options.CaseFiles.Length > 0 ? [] : Verifier.Select(options.Suite, options.Case, options.Activation, kernel.Precision);
        if (cases.Count == 0 && options.CaseFiles.Length == 0)
            throw new UsageException($"--case {options.Case}: no case has that name or starts with it followed by '/'{CaseNameHint(options.Activation, kernel.Precision)}.");
        if (options.Shard is var (k, n))
        {
            cases = Verifier.Shard(cases, k, n);
            if (cases.Count == 0)
                throw new UsageException($"--shard {k}/{n}: selects no case{(options.Case is null ? "" : $" of --case {options.Case}")}; a run of no case would pass having checked nothing.");
        }

        cases = [.. cases, .. fileCases.Select(f => f.Case)];
        if (options.Corpus is not null)
            console.WriteLine($"--corpus {options.Corpus}: {fileCases.Count - options.CaseFiles.Length} case(s) replayed{(skipped > 0 ? $", {skipped} of other activations or precisions left for their runs" : "")}.");
        var contract = options.Contract ?? Contracts.Of(kernel);
        // A planted regression of a recorded kernel is held to that kernel's records; every other kernel to its own.
        string baselineKey = kernel is FaultyKernel { RatchetedAs: { } recorded } ? recorded : AccuracyBaseline.KeyOf(kernel.Name, options.KernelAssembly is not null);
        if (options.UpdateBaseline && baseline.Conflict(options.Suite, baselineKey, options.Seed, contract, options.NewBaseline) is { } conflict)
            throw new UsageException($"--update-baseline: {conflict}.");
        if (CheckWidth(console, kernel, options) is { } exit)
            return exit;

        console.WriteLine($"{kernel.Name} is judged by contract {contract}{(options.Contract is not null ? " (--contract)" : kernel.Contract is null ? " (the default: it declares none)" : " (its declared contract)")}.");
        var results = RunWithProgress(console, kernel, cases, options.Seed, contract)
            .Select(r => fileOf.TryGetValue(r.Case.Name, out string? file) ? r with { ReproduceWith = CaseFiles.Reproducer(kernel.Name, file) } : r)
            .Select(r => options.KernelAssembly is { } assembly ? r with { ReproduceWith = $"{r.Reproducer} --kernel-assembly {assembly.FullName}" } : r)
            .Select(r => options.Adapter is { } adapter ? r with { ReproduceWith = AdapterOption.Reproducer(r.Reproducer, kernel.Name, adapter) } : r)
            .Select(r => options.UpdateBaseline ? r : r with { Regressions = baseline.Regressions(options.Suite, r, baselineKey) })
            .ToList();
        string? ratchet = options.UpdateBaseline ? null
            : baseline.Held(options.Suite, baselineKey, options.Seed, results)
              ?? $"none: no recorded errors for {baselineKey} on these cases at seed {options.Seed} in {baselinePath ?? "(no baseline file: not in a repository and no --baseline)"}; accuracy regressions within the bounds are not checked";
        bool allPassed = options.Report.Write(console, kernel.Name, results, ratchet) == ExitCodes.Passed;
        ContractHint(kernel, options, results, contract);
        if (options.UpdateBaseline)
        {
            if (!allPassed)
            {
                Console.Error.WriteLine("not re-baselined: a case did not pass.");
                return ExitCodes.Failed;
            }

            baseline.Record(options.Suite, baselineKey, options.Seed, contract, results, options.NewBaseline);
            baseline.Save(baselinePath!);
            console.WriteLine($"Recorded {results.Count} cases of {baselineKey}'s errors on suite {options.SuiteName} in {baselinePath}{(options.NewBaseline ? " (a new entry)" : "; its other recorded cases are kept")}.");
        }

        return allPassed ? ExitCodes.Passed : ExitCodes.Failed;
    }

    /// <summary>The baseline at <paramref name="path"/> (none: empty); a file that is not one is refused naming --baseline when it was given.</summary>
    private static AccuracyBaseline LoadBaseline(string? path, bool given)
    {
        try
        {
            return path is null ? AccuracyBaseline.Empty() : AccuracyBaseline.Load(path);
        }
        catch (InvalidDataException e) when (given)
        {
            throw new UsageException($"--baseline {e.Message}", e);
        }
    }

    /// <summary>The kernel --kernel names, from --kernel-assembly when given (its only kernel when no name is), else the catalog's (default: optimized).</summary>
    public static IBatchNormKernel LoadKernel(string? name, FileInfo? assembly, int threads) =>
        assembly is not null ? UserKernelAssembly.Load(assembly.FullName).Create(name) : KernelCatalog.Create(name ?? "optimized", threads);

    /// <summary>
    /// What the contract profile says about this run, in one line per pass and layout: for a kernel that declares no
    /// contract and passed, the tighter contract it met (so it can declare it); for cases that failed on their outputs,
    /// the contract those outputs do meet (a kernel whose sums moved from double to float is named so).
    /// </summary>
    private static void ContractHint(IBatchNormKernel kernel, VerifyOptions options, IReadOnlyList<CaseResult> results, NumericalContract contract)
    {
        var failedOnOutputs = results.Where(r => r.Outputs.Any(o => !o.Passed)).Select(r => r.Case).ToList();
        bool undeclared = kernel.Contract is null && options.Contract is null;
        var cases = failedOnOutputs.Count > 0 ? failedOnOutputs : undeclared ? results.Select(r => r.Case).ToList() : [];
        if (cases.Count == 0)
            return;
        var profiles = ContractProfile.Profile(kernel, cases, options.Seed);
        string met = string.Join("; ", profiles.Select(p => $"{Battery.PassName(p.Pass)} {p.Layout.Short()} {(p.Tightest is { } t ? t.ToString() : "none")}"));
        Console.Out.WriteLine(failedOnOutputs.Count > 0
            ? $"The failing cases' outputs meet, by pass and layout: {met} (judged by {contract}; 'none': they meet no contract, a bug rather than another algorithm)."
            : $"{kernel.Name} declares no contract; on this run it met, by pass and layout: {met}. Declare it (IBatchNormKernel.Contract, or --contract) for tighter bounds; 'bnverify profile' shows how much tighter.");
    }

    /// <summary>For a variant's run, how its case names start (a plain name is not one of them); empty for plain float32.</summary>
    public static string CaseNameHint(Activation activation, DataPrecision precision) =>
        Battery.NamePrefix(activation, precision) is { Length: > 0 } prefix ? $" (this run's case names start with '{prefix}')" : "";

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

    private static IReadOnlyList<CaseResult> RunWithProgress(IAnsiConsole console, IBatchNormKernel kernel, IReadOnlyList<VerificationCase> cases, int seed, NumericalContract contract)
    {
        if (!console.Profile.Capabilities.Interactive)
            return Verifier.Run(kernel, cases, seed, contract: contract);
        IReadOnlyList<CaseResult> results = [];
        // The bar is cleared when the run ends: what stays on the screen is the table, not a finished bar naming the last case.
        console.Progress().AutoClear(true).Start(context =>
        {
            var task = context.AddTask($"verify {kernel.Name}", maxValue: cases.Count);
            results = Verifier.Run(kernel, cases, seed, r =>
            {
                task.Description = $"verify {kernel.Name}: {r.Case.Name}";
                task.Increment(1);
            }, contract);
        });
        return results;
    }
}
