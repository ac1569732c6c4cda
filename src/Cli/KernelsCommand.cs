using System.CommandLine;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Cli;

/// <summary><c>bnverify kernels</c>: the names --kernel accepts, one a line.</summary>
internal static class KernelsCommand
{
    public static Command Create()
    {
        var command = new Command("kernels", "List the kernel names --kernel accepts, one a line.");
        command.SetAction(_ =>
        {
            foreach (string name in KernelCatalog.Names)
                Console.WriteLine(name);
            foreach (var (name, reason) in KernelCatalog.Unavailable)
                Console.Error.WriteLine($"{name} (unavailable: {reason})");
            return ExitCodes.Passed;
        });
        return command;
    }
}
