using System.Globalization;
using System.Net;
using System.Text;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Cli.Html;

/// <summary>
/// The run as one self-contained HTML page (<c>--html FILE</c>): the summary line and per-output figures, the first
/// failing cases each with its diagnosis, a map of its damaged elements and the text report's worst elements, each
/// output's error/bound histogram and magnitude map over every case, and a sortable table of every case. Everything is inline
/// (styles, script, pictures as PNG data URIs), so the file can be attached to a CI run, mailed or opened offline.
/// </summary>
internal static class HtmlReport
{
    /// <summary>Failing cases drawn in full; the rest are in the case table and the text report.</summary>
    public const int FailuresShown = 20;

    /// <summary>The page. Numbers are invariant culture; every text from a case, a kernel or a file is HTML-encoded.</summary>
    public static string Render(string kernel, string suite, (int K, int N)? shard, int seed, IReadOnlyList<CaseResult> results, string? ratchet)
    {
        var page = new StringBuilder();
        page.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>bnverify: {Encode(kernel)}, suite {Encode(suite)}</title>
            <style>{Style}</style></head>
            <body><main>
            <h1>bnverify: {Encode(kernel)}</h1>
            """);
        Summary(page, kernel, suite, shard, seed, results, ratchet);
        // Failures before the plots: on a failing run the diagnosis is what a reader came for.
        Failures(page, results);
        PlotsSection(page, results);
        CaseTableSection(page, results);
        page.Append(CultureInfo.InvariantCulture, $"</main><script>{Script}</script></body></html>\n");
        return page.ToString();
    }

    private static void Summary(StringBuilder page, string kernel, string suite, (int K, int N)? shard, int seed, IReadOnlyList<CaseResult> results, string? ratchet)
    {
        bool passed = results.All(r => r.Verdict == Verdict.Passed);
        page.Append(CultureInfo.InvariantCulture, $"""
            <section id="summary"><h2>Summary</h2>
            <p class="verdict {(passed ? "pass" : "fail")}">{(passed ? "PASSED" : "FAILED")}</p>
            <p>{Encode(TextReport.Summary(kernel, suite, shard, seed, results))}</p>
            """);
        if (ratchet is not null)
            page.Append(CultureInfo.InvariantCulture, $"<p>Ratchet: {Encode(ratchet)}.</p>\n");
        page.Append("""
            <p class="legend">error/bound: each element's error over the bound its output's contract allows; 1 or below passes.
            For y and dx it is the residual after the part a legitimate algorithm may share over a channel (see the datasheet).</p>
            <table><thead><tr><th>output</th><th>cases</th><th>worst error/bound</th><th>worst case</th><th>max abs</th><th>max rel</th><th>max ulps</th><th>exact cases</th></tr></thead><tbody>

            """);
        foreach (var row in OutputSummary.Of(results))
        {
            page.Append(CultureInfo.InvariantCulture, $"""
                <tr class="{(row.WorstRatio < 1 ? "pass" : "fail")}"><td>{row.Output.Name()}</td><td>{row.Cases}</td><td>{ReportFormat.Ratio(row.WorstRatio)}</td><td>{Encode(row.WorstCase)}</td><td>{ReportFormat.Short(row.MaxAbsoluteError)}</td><td>{ReportFormat.Short(row.MaxRelativeError)}</td><td>{ReportFormat.Ulps(row.MaxUlps)}</td><td>{row.ExactCases}</td></tr>

                """);
        }

        page.Append("</tbody></table></section>\n");
    }

    /// <summary>Per output, over every case: where its elements sit against their bounds, and at what magnitude.</summary>
    private static void PlotsSection(StringBuilder page, IReadOnlyList<CaseResult> results)
    {
        page.Append("<section id=\"plots\"><h2>Error against bound, by output</h2>\n<p class=\"legend\">Counts on a log scale, every case summed; red bins fail. "
                    + "The map puts each element at its |expected| relative to its output's largest: error that grows where values are small is cancellation.</p>\n");
        foreach (var group in results.SelectMany(r => r.Outputs).GroupBy(o => o.Output).OrderBy(g => g.Key))
        {
            var histogram = ErrorHistogram.Sum(group.Select(o => o.Histogram));
            string name = group.Key.Name();
            page.Append(CultureInfo.InvariantCulture, $"<figure class=\"output\" id=\"plot-{name}\">");
            Image(page, Plots.RatioHistogram(name, histogram), $"{name}: histogram of error/bound over {histogram.Total} elements");
            Image(page, Plots.MagnitudeMap(name, histogram), $"{name}: error/bound against magnitude");
            // The bins hold each element's residual; a channel can also fail on its systematic part alone, which no bin shows.
            int systematic = group.Sum(o => o.SystematicFailures.Count);
            string channels = systematic == 0 ? "" : $"; {systematic} channel(s) fail on their systematic part, which these bins (the residual) do not show";
            page.Append(CultureInfo.InvariantCulture, $"<figcaption>{name}: {histogram.Total} elements in {group.Count()} cases{channels}</figcaption></figure>\n");
        }

        page.Append("</section>\n");
    }

    /// <summary>The first failing cases, each with its diagnosis, damage maps and worst elements.</summary>
    private static void Failures(StringBuilder page, IReadOnlyList<CaseResult> results)
    {
        var failing = results.Where(r => r.Verdict != Verdict.Passed).ToList();
        page.Append(CultureInfo.InvariantCulture, $"<section id=\"failures\"><h2>Failing cases ({failing.Count})</h2>\n");
        if (failing.Count == 0)
            page.Append("<p>None.</p>\n");
        if (failing.Count > FailuresShown)
            page.Append(CultureInfo.InvariantCulture, $"<p>The first {FailuresShown} are drawn; every one is in the case table below and in the console's text report.</p>\n");
        foreach (var result in failing.Take(FailuresShown))
        {
            page.Append(CultureInfo.InvariantCulture, $"<article class=\"failure\" id=\"case-{Encode(result.Case.Name)}\"><h3>{Encode(result.Case.Name)}: {result.Verdict.ToString().ToUpperInvariant()}</h3>\n");
            if (result.Diagnosis is var (diagnosed, bug))
                page.Append(CultureInfo.InvariantCulture, $"<p class=\"diagnosis\">diagnosis ({diagnosed.Name()}): {Encode(bug.Line)}</p>\n");
            DamageMaps(page, result);
            page.Append(CultureInfo.InvariantCulture, $"<details open><summary>text report</summary><pre>{Encode(TextReport.Failure(result))}</pre></details></article>\n");
        }

        page.Append("</section>\n");
    }

    /// <summary>
    /// Overview and zoom of the damaged elements of the output the diagnosis names, or else of the first failing output
    /// with damage. A case failing only on its ratchet or a violation has no damage to draw.
    /// </summary>
    private static void DamageMaps(StringBuilder page, CaseResult result)
    {
        var output = result.Outputs.FirstOrDefault(o => result.Diagnosis is var (d, _) && o.Output == d && o.Damaged.Count > 0)
                     ?? result.Outputs.FirstOrDefault(o => !o.Passed && o.Damaged.Count > 0);
        if (output is null)
            return;
        var shape = result.Case.Shape;
        bool elementwise = output.Output.IsElementwise();
        string name = output.Output.Name();
        var overview = DamageGrid.Overview(shape, elementwise, output.Damaged);
        page.Append("<figure class=\"damage\">");
        Image(page, Plots.DamageMap($"{name}: {output.Damaged.Count} damaged of {output.Count}, whole tensor", overview, elementwise), $"{name}: damaged elements, whole tensor");
        if (!overview.OneElementPerCell)
        {
            var zoom = DamageGrid.Zoom(shape, elementwise, output.Damaged);
            Image(page, Plots.DamageMap($"{name}: one element a cell, near the first damaged", zoom, elementwise), $"{name}: damaged elements, zoomed");
        }

        page.Append(CultureInfo.InvariantCulture, $"<figcaption>{name} ({shape}): dark cells are damaged elements, white undamaged.</figcaption></figure>\n");
    }

    /// <summary>Every case, sortable by a click on a column head (or by <c>#sort=COLUMN</c> in the address).</summary>
    private static void CaseTableSection(StringBuilder page, IReadOnlyList<CaseResult> results)
    {
        page.Append("""
            <section id="cases"><h2>Every case</h2>
            <table class="sortable"><thead><tr><th data-type="text">case</th><th data-type="text">verdict</th><th data-type="number">error/bound</th><th data-type="text">worst output</th><th data-type="text">diagnosis</th></tr></thead><tbody>

            """);
        foreach (var result in results)
        {
            var worst = result.Outputs.MaxBy(o => o.WorstRatio);
            string ratio = worst is null ? "-" : ReportFormat.Ratio(result.WorstRatio);
            string sortKey = worst is null ? "-1" : ReportFormat.RoundTrip(result.WorstRatio);
            string diagnosis = result.Diagnosis is var (d, bug) ? $"{d.Name()}: {bug.Line}" : "";
            page.Append(CultureInfo.InvariantCulture, $"""
                <tr class="{(result.Verdict == Verdict.Passed ? "pass" : "fail")}"><td>{Encode(result.Case.Name)}</td><td>{result.Verdict}</td><td data-sort="{sortKey}">{ratio}</td><td>{(worst is null ? "-" : worst.Output.Name())}</td><td>{Encode(diagnosis)}</td></tr>

                """);
        }

        page.Append("</tbody></table></section>\n");
    }

    private static void Image(StringBuilder page, byte[] png, string alt) =>
        page.Append(CultureInfo.InvariantCulture, $"<img alt=\"{Encode(alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">");

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
        main{max-width:1200px;margin:0 auto;padding:1em 2em}
        h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:2em}
        table{border-collapse:collapse;margin:.5em 0}th,td{padding:2px 8px;border-bottom:1px solid #e4e4e4;text-align:left;font-variant-numeric:tabular-nums}
        th{background:#eee;cursor:pointer;user-select:none}
        tr.fail td:first-child{border-left:4px solid #d62728}tr.pass td:first-child{border-left:4px solid #2ca02c}
        .verdict{font-weight:bold;font-size:1.3em}.verdict.pass{color:#2ca02c}.verdict.fail{color:#d62728}
        .legend{color:#555}.diagnosis{font-weight:bold}
        figure{margin:1em 0}figure img{max-width:100%;margin-right:8px;vertical-align:top}
        pre{background:#fff;border:1px solid #ddd;padding:.5em;overflow-x:auto;font-size:12px}
        article.failure{border-top:1px dashed #bbb;padding-top:.5em}
        """;

    // Sorting: numbers by data-sort, text by its content; #sort=N (0-based column, N- descending) sorts on load. When
    // every picture has loaded the body says how many decoded and how many did not, which the browser test reads.
    private const string Script = """
        function sortBy(table, column, descending) {
          const body = table.tBodies[0], numeric = table.tHead.rows[0].cells[column].dataset.type === 'number';
          const key = row => { const cell = row.cells[column]; return numeric ? parseFloat(cell.dataset.sort) : cell.textContent; };
          const rows = Array.from(body.rows).sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1); });
          rows.forEach(row => body.appendChild(row));
          table.dataset.sorted = column + (descending ? '-' : '');
        }
        document.querySelectorAll('table.sortable').forEach(table => {
          Array.from(table.tHead.rows[0].cells).forEach((th, column) => th.addEventListener('click', () =>
            sortBy(table, column, table.dataset.sorted === String(column))));
          const wanted = /#sort=(\d+)(-?)/.exec(location.hash);
          if (wanted) sortBy(table, Number(wanted[1]), wanted[2] === '-');
        });
        window.addEventListener('load', () => {
          const images = Array.from(document.images), decoded = images.filter(img => img.complete && img.naturalWidth > 0).length;
          document.body.dataset.imagesDecoded = decoded;
          document.body.dataset.imagesBroken = images.length - decoded;
        });
        """;
}
