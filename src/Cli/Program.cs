using System.CommandLine;
using BatchNorm.Cli;

// bnverify's exit codes (ExitCodes): 0 when everything checked passes, 1 when a check fails (or is
// mistrusted), 2 for bad usage or unusable input (checked before any work), 3 for a bug in bnverify.
// This is the one place exceptions become exit codes.
var verbose = new Option<bool>("--verbose") { Description = "On an internal error, print the stack trace.", Recursive = true };
var root = new RootCommand("bnverify: numerical verification of batch normalization kernels.")
{
    VerifyCommand.Create(),
    KernelsCommand.Create(),
    CompareCommand.Create(),
    ExportCommand.Create(),
    CheckCommand.Create(),
    BenchCommand.Create(),
    ProfileCommand.Create(),
    HuntCommand.Create(),
};
root.Options.Add(verbose);
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine(ParseErrors.OneLine(parse));
    return ExitCodes.Usage;
}

// The cache size the kernel's speed policies use can be forced from the environment; a value that is no size is
// refused like a bad option, before anything runs.
if (BatchNorm.Optimized.LastLevelCache.ForcedError is { } cacheError)
{
    Console.Error.WriteLine(cacheError);
    return ExitCodes.Usage;
}

try
{
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is UsageException or InvalidDataException or ArgumentException or IOException or UnauthorizedAccessException)
{
    // Usage and input errors, including I/O on the paths the user gave: one line, exit 2. An ArgumentException's
    // message carries its internal parameter's name ("(Parameter 'options.Momentum')") and, out of range, a second
    // line with the value: the user's words are the first part.
    string message = e is ArgumentException argument && argument.ParamName is { } name
        ? argument.Message.Split('\n')[0].Replace($" (Parameter '{name}')", "", StringComparison.Ordinal).TrimEnd()
        : e.Message.Split('\n')[0].TrimEnd();
    Console.Error.WriteLine(message);
    return ExitCodes.Usage;
}
catch (Exception e)
{
    Console.Error.WriteLine($"bnverify: internal error ({e.GetType().Name}: {e.Message}); this is a bug in bnverify.");
    if (parse.GetValue(verbose))
        Console.Error.WriteLine(e);
    else
        Console.Error.WriteLine("Rerun with --verbose for the stack trace.");
    return ExitCodes.Internal;
}
