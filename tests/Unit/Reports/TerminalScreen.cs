using System.Diagnostics;
using System.Text;
using Xunit;

namespace BatchNorm.Tests.Unit.Reports;

/// <summary>
/// Runs bnverify on a pseudo-terminal of a given width (script(1), bsdutils, Essential in Debian) and returns the text
/// a person sees once it has finished: the bytes replayed on a small screen model that honours what the console writes
/// (line feeds, carriage returns, cursor up, erase to the end of the line), so a progress line that was drawn and
/// erased is gone, as on a real terminal, and colours are dropped.
/// </summary>
internal static class TerminalScreen
{
    public static string Run(int columns, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        Assert.True(File.Exists("/usr/bin/script"), "/usr/bin/script (apt-get install bsdutils) is needed for a terminal to test");
        string dll = Path.Combine(AppContext.BaseDirectory.Replace("tests/Unit", "src/Cli", StringComparison.Ordinal), "bnverify.dll");
        var start = new ProcessStartInfo("/usr/bin/script") { RedirectStandardOutput = true, WorkingDirectory = Bnverify.RepositoryRoot() };
        string command = string.Join(' ', args.Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        foreach (string arg in new[] { "-qec", $"stty cols {columns} rows 50; exec dotnet {dll} {command}", "/dev/null" })
            start.ArgumentList.Add(arg);
        start.Environment.Remove("CI");
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        string bytes = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return Replay(bytes);
    }

    /// <summary>The screen <paramref name="bytes"/> leave: one string per line, trailing spaces trimmed, joined by '\n'.</summary>
    public static string Replay(string bytes)
    {
        var lines = new List<StringBuilder> { new() };
        int row = 0, column = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            char c = bytes[i];
            if (c == '\x1b')
            {
                i = Escape(bytes, i, lines, ref row, ref column);
                continue;
            }

            switch (c)
            {
                case '\n':
                    row++;
                    column = 0; // the pseudo-terminal maps '\n' to "\r\n" (onlcr)
                    while (lines.Count <= row)
                        lines.Add(new StringBuilder());
                    break;
                case '\r':
                    column = 0;
                    break;
                default:
                    var line = lines[row];
                    if (line.Length <= column)
                        line.Append(' ', column - line.Length + 1);
                    line[column++] = c;
                    break;
            }
        }

        return string.Join('\n', lines.Select(l => l.ToString().TrimEnd())).TrimEnd('\n');
    }

    /// <summary>One escape sequence from <paramref name="at"/>: CSI n A (cursor up) and CSI K (erase to the end) act; the rest only colour or set modes.</summary>
    private static int Escape(string bytes, int at, List<StringBuilder> lines, ref int row, ref int column)
    {
        if (at + 1 >= bytes.Length || bytes[at + 1] != '[')
            return at + 1; // ESC = and the like: a two-byte mode switch
        int end = at + 2;
        while (end < bytes.Length && !char.IsAsciiLetter(bytes[end]))
            end++;
        string parameter = bytes[(at + 2)..end];
        char final = end < bytes.Length ? bytes[end] : ' ';
        if (final == 'A')
            row = Math.Max(0, row - (parameter.Length == 0 ? 1 : int.Parse(parameter, System.Globalization.CultureInfo.InvariantCulture)));
        else if (final == 'K' && lines[row].Length > column)
            lines[row].Length = column;
        return end;
    }
}
