using System.CommandLine;
using BatchNorm.Harness.Adapters;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Cli;

/// <summary>
/// --adapter and --adapter-timeout, on verify and hunt: a kernel in another language behind the adapter protocol
/// (docs/adapter-protocol.md), one process for the whole run.
/// </summary>
internal sealed class AdapterOption
{
    private readonly Option<string?> command = new("--adapter")
    {
        Description = "A kernel in another language: a command (run with /bin/sh -c, started once for the run) that speaks the adapter protocol on its standard " +
                      "input and output (docs/adapter-protocol.md), e.g. \"python3 examples/pytorch/adapter.py\". Instead of --kernel and --kernel-assembly.",
    };

    private readonly Option<int> timeout = StrictNumbers.Int("--adapter-timeout", "Seconds the adapter may take to answer one case (or its hello) before it is taken as hung.",
        1, 3600, 60, "1 to 3600");

    public void AddTo(Command target)
    {
        target.Options.Add(command);
        target.Options.Add(timeout);
    }

    /// <summary>The command given, or null; refuses it beside another way of naming the kernel, and an empty one.</summary>
    public string? Command(ParseResult parse, bool kernelGiven)
    {
        string? given = parse.GetValue(command);
        if (given is null)
            return null;
        if (given.Trim().Length == 0)
            throw new UsageException($"--adapter '{given}': must be a command to run.");
        return kernelGiven ? throw new UsageException($"--adapter {given}: the adapter is the kernel; give it or --kernel/--kernel-assembly, not both.") : given;
    }

    /// <summary>Starts the adapter <paramref name="given"/> names (its hello read), or loads the in-process kernel.</summary>
    public IBatchNormKernel Load(ParseResult parse, string? given, Func<IBatchNormKernel> inProcess) =>
        given is null ? inProcess() : AdapterKernel.Start(given, TimeSpan.FromSeconds(parse.GetValue(timeout)));

    /// <summary>A reproducer that reruns through the adapter: its "--kernel NAME" becomes "--adapter 'COMMAND'".</summary>
    public static string Reproducer(string reproducer, string kernelName, string given) =>
        reproducer.Replace($"--kernel {kernelName}", $"--adapter '{given.Replace("'", "'\\''", StringComparison.Ordinal)}'", StringComparison.Ordinal);
}
