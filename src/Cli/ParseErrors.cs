using System.CommandLine;
using System.CommandLine.Parsing;

namespace BatchNorm.Cli;

/// <summary>
/// A parse error as the one line the README promises: the option and the value as typed, then the rule. System.CommandLine
/// words a value outside a fixed set over several lines ("Argument 'x' not recognized. Must be one of:", then a line a
/// value) and names no option; every other error it reports is one line already.
/// </summary>
internal static class ParseErrors
{
    private const string NotRecognized = "not recognized. Must be one of:";

    /// <summary>The first error of <paramref name="parse"/> in one line, with where to read the usage.</summary>
    public static string OneLine(ParseResult parse)
    {
        // "bnverify frob" reports a missing command before the unknown word; the word is what the user got wrong.
        var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
        string[] lines = error.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string command = parse.CommandResult.Command is RootCommand ? "bnverify" : $"bnverify {parse.CommandResult.Command.Name}";
        string message = lines.Length > 1 && lines[0].Contains(NotRecognized, StringComparison.Ordinal) && OptionOf(error.SymbolResult) is { } option
            ? $"{option.Option.Name} {Value(lines[0])}: must be one of {string.Join(", ", lines.Skip(1).Select(l => l.Trim('\'')))}."
            : string.Join(" ", lines);
        return $"{message} See '{command} --help'.";
    }

    private static OptionResult? OptionOf(SymbolResult? result) => result switch
    {
        OptionResult option => option,
        ArgumentResult { Parent: OptionResult option } => option,
        _ => null,
    };

    /// <summary>The value of "Argument 'VALUE' not recognized. ...": of a repeated option, the one that is wrong.</summary>
    private static string Value(string line)
    {
        int start = line.IndexOf('\'') + 1, end = line.LastIndexOf("' " + NotRecognized, StringComparison.Ordinal);
        return start > 0 && end >= start ? line[start..end] : line;
    }
}
