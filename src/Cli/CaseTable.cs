using System.Text;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary>
/// The table verify and check print, one row per case (or per output): plain aligned columns, no trailing spaces and no
/// padding lines. It fits the width it is given: columns are dropped in a fixed order (max rel, max ULP, residual,
/// systematic, max abs) and then the case name is shortened in its middle, never a number split. Redirected output has
/// no width limit and keeps every column.
/// </summary>
internal static class CaseTable
{
    private enum Column
    {
        Case,
        Output,
        MaxAbs,
        MaxRel,
        MaxUlp,
        ErrorOverBound,
        Systematic,
        Residual,
        Verdict,
    }

    private static readonly string[] Headers = ["case", "output", "max abs", "max rel", "max ULP", "error/bound", "systematic", "residual", "verdict"];

    /// <summary>The columns given up first when the table is too wide.</summary>
    private static readonly Column[] DropOrder = [Column.MaxRel, Column.MaxUlp, Column.Residual, Column.Systematic, Column.MaxAbs];

    private const string Gap = "  ";

    /// <summary>What the columns mean, printed under the table on a terminal and in <c>verify --help</c>.</summary>
    public const string Legend =
        "error/bound: the largest |error| / bound over the case's outputs (each bound derived for the kernel's contract, docs/tolerances.md): " +
        "1 or below passes, above 1 fails, inf is a NaN or infinity where a finite value belongs. systematic: the same ratio for the per-channel " +
        "affine part of y's or dx's error (a statistic or coefficient off); residual: for what is left of each element once that part is taken out " +
        "(a wrong element, a tail, a lane). max abs, max rel, max ULP: the largest errors themselves.";

    /// <summary>The table's lines for at most <paramref name="width"/> columns (null: no limit), the verdict cell coloured when <paramref name="markup"/>.</summary>
    public static IReadOnlyList<string> Lines(IReadOnlyList<CaseResult> results, bool allOutputs, int? width, bool markup)
    {
        var rows = Rows(results, allOutputs);
        var shown = Enum.GetValues<Column>().ToList();
        int caseWidth = Math.Max(Headers[0].Length, rows.Select(r => r.Cells[0].Length).DefaultIfEmpty(0).Max());
        int Width() => shown.Sum(c => c == Column.Case ? caseWidth : ColumnWidth(rows, c)) + (Gap.Length * (shown.Count - 1));
        foreach (var column in DropOrder)
        {
            if (width is null || Width() <= width)
                break;
            shown.Remove(column);
        }

        if (width is { } limit && Width() > limit)
            caseWidth = Math.Max(Headers[0].Length + 4, caseWidth - (Width() - limit));

        var lines = new List<string> { Line(Headers, shown, rows, caseWidth, null) };
        lines.Add(string.Join(Gap, shown.Select(c => new string('-', c == Column.Case ? caseWidth : ColumnWidth(rows, c)))));
        foreach (var row in rows)
            lines.Add(Line(row.Cells, shown, rows, caseWidth, markup ? row.Verdict : null));
        return lines;
    }

    private static string Line(string[] cells, List<Column> shown, List<(string[] Cells, Verdict Verdict)> rows, int caseWidth, Verdict? colour)
    {
        var line = new StringBuilder();
        foreach (var column in shown)
        {
            if (line.Length > 0)
                line.Append(Gap);
            string cell = cells[(int)column];
            if (column == Column.Case)
                cell = Shorten(cell, caseWidth);
            int width = column == Column.Case ? caseWidth : ColumnWidth(rows, column);
            string padded = column == Column.Verdict ? cell : cell.PadRight(width);
            line.Append(column == Column.Verdict && colour is { } verdict ? Colour(Markup.Escape(cell), verdict) : colour is null ? padded : Markup.Escape(padded));
        }

        return line.ToString().TrimEnd();
    }

    private static string Colour(string text, Verdict verdict) => verdict switch
    {
        Verdict.Passed => $"[green]{text}[/]",
        Verdict.Mistrusted => $"[yellow]{text}[/]",
        Verdict.Failed => $"[red]{text}[/]",
        _ => throw new InvalidOperationException($"no colour for verdict {verdict}"),
    };

    private static int ColumnWidth(List<(string[] Cells, Verdict Verdict)> rows, Column column) =>
        Math.Max(Headers[(int)column].Length, rows.Select(r => r.Cells[(int)column].Length).DefaultIfEmpty(0).Max());

    /// <summary>A name too long for its column, shortened in the middle: its start (the family) and end (layout and pass) tell cases apart.</summary>
    private static string Shorten(string name, int width)
    {
        if (name.Length <= width)
            return name;
        int head = (width - 1) / 2, tail = width - 1 - head;
        return name[..head] + "~" + name[^tail..];
    }

    private static List<(string[] Cells, Verdict Verdict)> Rows(IReadOnlyList<CaseResult> results, bool allOutputs)
    {
        var rows = new List<(string[], Verdict)>();
        foreach (var result in results)
        {
            string verdict = result.Verdict switch
            {
                Verdict.Passed => "passed",
                Verdict.Mistrusted => "mistrusted",
                Verdict.Failed => "FAILED",
                _ => throw new InvalidOperationException($"no rendering for verdict {result.Verdict}"),
            };
            if (result.Outputs.Count == 0)
            {
                // Nothing to compare (every output missing): the case still has its row.
                rows.Add(([result.Case.Name, "-", "-", "-", "-", "-", "-", "-", verdict], result.Verdict));
                continue;
            }

            var outputs = allOutputs ? result.Outputs : result.Outputs.OrderByDescending(o => o.WorstRatio).Take(1);
            foreach (var output in outputs)
            {
                rows.Add(([result.Case.Name, output.Output.Name(), ReportFormat.Short(output.MaxAbsoluteError), ReportFormat.Short(output.MaxRelativeError),
                    ReportFormat.Ulps(output.MaxUlps), ReportFormat.Ratio(output.WorstRatio), ReportFormat.OptionalRatio(output.SystematicRatio),
                    ReportFormat.OptionalRatio(output.ResidualRatio), verdict], result.Verdict));
            }
        }

        return rows;
    }
}
