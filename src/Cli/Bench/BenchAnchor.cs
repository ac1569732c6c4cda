using System.Diagnostics;
using System.Globalization;
using BatchNorm.Harness;
using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Cli.Bench;

/// <summary>An implementation bench times round by round against ours: oneDNN in process, or PyTorch in a helper process.</summary>
internal interface IBenchAnchor : IDisposable
{
    /// <summary>The name in the table and the jsonl (PyTorch's carries its version).</summary>
    string Name { get; }

    /// <summary>Readies one cell (warmed up) and returns the timer of one call of it, in seconds.</summary>
    Func<double> Cell(PassWorkload workload, BenchShape shape, Layout layout, string pass, BatchNormPass batchNormPass, Activation activation);

    /// <summary>
    /// Verifies the cell <see cref="Cell"/> readied against the reference, once: a timed computation that is not this
    /// batch norm is no anchor. Called after <see cref="Cell"/>.
    /// </summary>
    AnchorCheck Check(TensorShape shape, BatchNormPass batchNormPass, Activation activation);
}

/// <summary>What verifying a timed computation found: its verdict under its contract, and the worst error/bound.</summary>
internal sealed record AnchorCheck(string Kernel, bool Passed, string Summary)
{
    /// <summary>Verifies a kernel in process on the cell's shape and pass, as <c>verify</c> verifies a case (its contract, NaN placement, guards, determinism).</summary>
    public static AnchorCheck Of(IBatchNormKernel kernel, TensorShape shape, BatchNormPass pass, Activation activation) => From(kernel.Name,
        Verifier.Run(kernel, [CellCase(shape, pass, activation)], Battery.DefaultSeed, contract: Contracts.Of(kernel)).Single());

    public static AnchorCheck From(string kernel, CaseResult result) =>
        new(kernel, result.Verdict == Verdict.Passed, string.Create(CultureInfo.InvariantCulture,
            $"{kernel}: {result.Verdict.ToString().ToLowerInvariant()}, error/bound {ReportFormat.Ratio(result.Outputs.Select(o => o.WorstRatio).DefaultIfEmpty(0).Max())} (contract {result.Contract})"));

    /// <summary>The cell as a case: the bench's data (normal values, gamma and beta, PyTorch's running-statistics rule).</summary>
    public static VerificationCase CellCase(TensorShape shape, BatchNormPass pass, Activation activation) => new()
    {
        Name = $"bench/{shape.N}x{shape.C}x{shape.S}/{shape.Layout.Short()}/{Battery.PassName(pass)}",
        Shape = shape,
        Pass = pass,
        Options = BatchNormOptions.PyTorch with { Activation = activation },
        WithRunningStats = true,
    };
}

/// <summary>A kernel bnverify runs in process (oneDNN): timed on the very buffers ours uses.</summary>
internal sealed class KernelAnchor(IBatchNormKernel kernel) : IBenchAnchor
{
    public string Name => kernel.Name;

    /// <summary>The kernel, which bench asks whether it fuses the activation before anything is timed.</summary>
    public IBatchNormKernel Kernel => kernel;

    public Func<double> Cell(PassWorkload workload, BenchShape shape, Layout layout, string pass, BatchNormPass batchNormPass, Activation activation)
    {
        var once = Timing.Timer(() => workload.RunWith(kernel, batchNormPass));
        Timing.WarmUp(once);
        return once;
    }

    /// <remarks>The same kernel object, so the same primitives and threads as the timed calls, on the verifier's buffers.</remarks>
    public AnchorCheck Check(TensorShape shape, BatchNormPass batchNormPass, Activation activation) => AnchorCheck.Of(kernel, shape, batchNormPass, activation);

    public void Dispose()
    {
    }
}

/// <summary>
/// PyTorch's CPU batch norm (F.batch_norm, autograd for backward; with a ReLU, F.relu after it, as
/// PyTorch runs the pair unfused) in one helper process,
/// tools/bench/torch_anchor.py, on tensors of its own with the same shape, layout and threads. Each
/// round asks for one call and reads back the time PyTorch measured around it, so the pipe's latency
/// is not in the figure.
/// </summary>
internal sealed class PyTorchAnchor : IBenchAnchor
{
    public const string Python = "/usr/bin/python3";

    public const string Install = "apt-get update && apt-get install -y python3-torch";

    private readonly int threads;

    private Process process;

    private bool used;

    private PyTorchAnchor(Process process, string name, int threads) => (this.process, Name, this.threads) = (process, name, threads);

    public string Name { get; }

    /// <summary>Starts the helper with <paramref name="threads"/> threads.</summary>
    /// <exception cref="UsageException">PyTorch is not installed, or the helper does not start; the message says how to install it.</exception>
    public static PyTorchAnchor Start(int threads)
    {
        var (process, name) = Launch(threads);
        return new PyTorchAnchor(process, name, threads);
    }

    private static (Process Process, string Name) Launch(int threads)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "torch_anchor.py");
        if (!File.Exists(Python) || !File.Exists(script))
            throw new UsageException($"--anchor pytorch: needs {Python} with PyTorch ({Install}).");
        var start = new ProcessStartInfo(Python, [script, threads.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // PyTorch allocates each call's outputs and frees them after (a CPU tensor is glibc's malloc). glibc gives large
        // freed blocks back to the kernel (mmap'd ones at once, the heap's top past a trim threshold that adapts to what
        // ran before), so a call's 12.8 MB dx was page-faulted in afresh on some calls and not others: PyTorch's
        // channels-last backward of 64x256x14x14 alternated 0.8 and 3.3 ms in one process, median 0.65 to 3.0 ms from
        // process to process, and 24 ms once alone (issue 30). Keeping blocks up to 32 MiB (glibc's largest mmap
        // threshold) in the heap and never trimming it below 1 GiB times the batch norm, not the page faults: 0.75 ms
        // (p25-p75 0.74-0.77) in every process; the forward passes, which reuse their blocks anyway, are unchanged.
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "33554432";
        start.Environment["MALLOC_TRIM_THRESHOLD_"] = "1073741824";
        var process = Process.Start(start) ?? throw new UsageException($"--anchor pytorch: {Python} did not start.");
        string? first = process.StandardOutput.ReadLine();
        if (first is null || !first.StartsWith("pytorch-", StringComparison.Ordinal))
        {
            process.WaitForExit(10_000);
            string error = process.StandardError.ReadToEnd().Trim().Split('\n').LastOrDefault() ?? "";
            throw new UsageException($"--anchor pytorch: PyTorch is not usable ({error}); install it: {Install}.");
        }

        return (process, first);
    }

    /// <remarks>
    /// Every cell after the first gets a helper process of its own, so nothing of an earlier cell (its tensors, the
    /// allocator's cached blocks, the thread pool's state) is reused: a cell's time is the one it has benched alone.
    /// </remarks>
    public Func<double> Cell(PassWorkload workload, BenchShape shape, Layout layout, string pass, BatchNormPass batchNormPass, Activation activation)
    {
        if (used)
        {
            Quit();
            process = Launch(threads).Process;
        }

        used = true;
        var s = shape.In(layout);
        Ask(string.Create(CultureInfo.InvariantCulture, $"cell {s.N} {s.C} {s.S} {layout.Short()} {pass} {activation.Short()}"), $"ready {activation.Short()}");
        return () => double.Parse(Ask("run", null), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>PyTorch 1.13's CPU kernels as its adapter declares them (examples/pytorch/run_suite.py).</summary>
    private static readonly NumericalContract Contract = NumericalContract.Parse("float-sequential/two-pass/folded-fma");

    /// <remarks>
    /// The helper runs the readied call once more on the very tensors it times and writes them out; they are judged as
    /// <c>bnverify compare</c> judges files. A fused ReLU is not checked here (compare has no fused activation): the
    /// summary says so, and the check passes on the plain pass it wraps.
    /// </remarks>
    public AnchorCheck Check(TensorShape shape, BatchNormPass batchNormPass, Activation activation)
    {
        if (activation != Activation.None)
            return new AnchorCheck(Name, true, $"{Name}: not checked under {activation.Short()} (compare has no fused activation)");
        string folder = Directory.CreateTempSubdirectory("bnverify-anchor-").FullName;
        try
        {
            Ask($"check {folder}", "checked");
            string File(string stem) => Path.Combine(folder, stem + ".npy");
            var inputs = Enum.GetValues<BatchNormInput>().Where(i => System.IO.File.Exists(File(i.FileStem()))).ToDictionary(i => i, i => File(i.FileStem()));
            var outputs = Enum.GetValues<BatchNormOutput>().Where(o => System.IO.File.Exists(File(o.FileStem()))).ToDictionary(o => o, o => File(o.FileStem()));
            var run = new ExternalRun { Pass = batchNormPass, Layout = shape.Layout, Options = BatchNormOptions.PyTorch, Inputs = inputs, Outputs = outputs, Contract = Contract };
            return AnchorCheck.From(Name, ExternalComparison.Run(run));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string Ask(string command, string? expected)
    {
        process.StandardInput.WriteLine(command);
        process.StandardInput.Flush();
        string answer = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the PyTorch anchor exited: {process.StandardError.ReadToEnd()}");
        if ((expected is not null && answer != expected) || answer.StartsWith("error", StringComparison.Ordinal))
            throw new InvalidOperationException($"the PyTorch anchor answered '{answer}' to '{command}'");
        return answer;
    }

    public void Dispose() => Quit();

    private void Quit()
    {
        try
        {
            process.StandardInput.WriteLine("quit");
            process.StandardInput.Flush();
            process.WaitForExit(5_000);
        }
        finally
        {
            process.Dispose();
        }
    }
}
