using System.Diagnostics;
using System.Globalization;
using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Cli.Bench;

/// <summary>An implementation bench times round by round against ours: oneDNN in process, or PyTorch in a helper process.</summary>
internal interface IBenchAnchor : IDisposable
{
    /// <summary>The name in the table and the jsonl (PyTorch's carries its version).</summary>
    string Name { get; }

    /// <summary>Readies one cell (warmed up) and returns the timer of one call of it, in seconds.</summary>
    Func<double> Cell(PassWorkload workload, BenchShape shape, Layout layout, string pass, BatchNormPass batchNormPass, Activation activation);
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

    private readonly Process process;

    private PyTorchAnchor(Process process, string name) => (this.process, Name) = (process, name);

    public string Name { get; }

    /// <summary>Starts the helper with <paramref name="threads"/> threads.</summary>
    /// <exception cref="UsageException">PyTorch is not installed, or the helper does not start; the message says how to install it.</exception>
    public static PyTorchAnchor Start(int threads)
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
        var process = Process.Start(start) ?? throw new UsageException($"--anchor pytorch: {Python} did not start.");
        string? first = process.StandardOutput.ReadLine();
        if (first is null || !first.StartsWith("pytorch-", StringComparison.Ordinal))
        {
            process.WaitForExit(10_000);
            string error = process.StandardError.ReadToEnd().Trim().Split('\n').LastOrDefault() ?? "";
            throw new UsageException($"--anchor pytorch: PyTorch is not usable ({error}); install it: {Install}.");
        }

        return new PyTorchAnchor(process, first);
    }

    public Func<double> Cell(PassWorkload workload, BenchShape shape, Layout layout, string pass, BatchNormPass batchNormPass, Activation activation)
    {
        var s = shape.In(layout);
        Ask(string.Create(CultureInfo.InvariantCulture, $"cell {s.N} {s.C} {s.S} {layout.Short()} {pass} {activation.Short()}"), $"ready {activation.Short()}");
        return () => double.Parse(Ask("run", null), NumberStyles.Float, CultureInfo.InvariantCulture);
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

    public void Dispose()
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
