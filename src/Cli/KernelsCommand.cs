using System.CommandLine;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Cli;

/// <summary><c>bnverify kernels</c>: the names --kernel accepts, one a line, each followed by what the kernel is.</summary>
internal static class KernelsCommand
{
    public static Command Create()
    {
        var kernelAssembly = new Option<FileInfo?>("--kernel-assembly") { Description = "List the kernels of your own build instead (a .dll implementing IBatchNormKernel)." };
        var command = new Command("kernels", "List the kernel names --kernel accepts, one a line with what each is (a planted bug's line says the bug); those that cannot be used go to stderr with the reason.") { kernelAssembly };
        command.SetAction(parse =>
        {
            if (parse.GetValue(kernelAssembly) is { } assembly)
            {
                var user = UserKernelAssembly.Load(assembly.FullName);
                foreach (var entry in user.Entries.Where(e => e.Kernel is not null))
                    Console.WriteLine($"{entry.Name} ({entry.TypeName})");
                foreach (var entry in user.Entries.Where(e => e.Kernel is null))
                    Console.Error.WriteLine($"{entry.TypeName} (unusable: {entry.Problem})");
                return ExitCodes.Passed;
            }

            var names = KernelCatalog.Names;
            int width = names.Max(n => n.Length);
            foreach (string name in names)
                Console.WriteLine($"{name.PadRight(width)}  {KernelCatalog.Describe(name)}");
            foreach (var (name, reason) in KernelCatalog.Unavailable)
                Console.Error.WriteLine($"{name} (unavailable: {reason})");
            return ExitCodes.Passed;
        });
        return command;
    }
}
