using System.CommandLine;
using BatchNorm.Cli;

// bnverify: exit 0 when everything checked passes, 1 when a check fails (or is mistrusted),
// 2 for bad usage or unreadable input.
var root = new RootCommand("bnverify: numerical verification of batch normalization kernels.")
{
    VerifyCommand.Create(),
    KernelsCommand.Create(),
    CompareCommand.Create(),
    BenchCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
        Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine("Run 'bnverify --help' for usage.");
    return ExitCodes.Usage;
}

return parse.Invoke();
