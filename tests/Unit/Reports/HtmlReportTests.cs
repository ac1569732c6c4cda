using System.Text.RegularExpressions;
using BatchNorm.Harness.Kernels;
using Xunit;

namespace BatchNorm.Tests.Unit.Reports;

/// <summary>
/// <c>--html</c> on verify, check and compare: one self-contained page whose failing cases carry their diagnosis and
/// damage map, and which a real browser renders with every picture decoded.
/// </summary>
public partial class HtmlReportTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("bnverify-html-").FullName;

    public void Dispose()
    {
        Directory.Delete(folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    // A faulty kernel is the optimized kernel with one loop changed, so its damage follows the vector width
    // it resolves to (a tail is length mod lanes): the page is made at 256 bits, which every machine of this
    // kind has (AVX2), whether or not it also has AVX-512.
    private static readonly Dictionary<string, string> Avx2Only = new() { ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX512"] = "0" };

    private string Report(string kernel, string? caseFilter = null)
    {
        string html = Path.Combine(folder, "report.html");
        string[] filter = caseFilter is null ? [] : ["--case", caseFilter];
        var run = Bnverify.RunWith(Avx2Only, ["verify", "--kernel", kernel, "--html", html, .. filter]);
        Assert.True(run.ExitCode is 0 or 1, run.Output + run.Error);
        return File.ReadAllText(html);
    }

    [Fact]
    public void AFailingKernelsReportNamesTheBugAndDrawsWhereItDamaged()
    {
        string page = Report("faulty:tail-wrong-stride");
        Assert.Contains("<p class=\"verdict fail\">FAILED</p>", page);
        Assert.Contains("69 passed, 20 failed", page);
        Assert.Equal(20, Occurrences(page, "<article class=\"failure\""));
        Assert.Contains("diagnosis (y): tail: every 2nd of the last 3 elements of contiguous runs", page);
        // Every failing case drawn has its damage map, and the case table lists every case of the suite.
        Assert.Equal(20, Occurrences(page, "<figure class=\"damage\">"));
        Assert.Equal(89, Occurrences(CaseTable(page), "<tr class="));
        Assert.Equal(20, Occurrences(CaseTable(page), "<tr class=\"fail\">"));
        AssertSelfContained(page);
    }

    [Fact]
    public void APassingKernelsReportHasItsPlotsAndNoFailures()
    {
        string page = Report("optimized", "normal");
        Assert.Contains("<p class=\"verdict pass\">PASSED</p>", page);
        Assert.Contains("<h2>Failing cases (0)</h2>\n<p>None.</p>", page);
        Assert.DoesNotContain("<figure class=\"damage\">", page);
        // One figure per output the cases have, each a histogram and a magnitude map.
        foreach (string output in new[] { "y", "batchMean", "batchVariance", "dx", "dgamma", "dbeta" })
            Assert.Contains($"<figure class=\"output\" id=\"plot-{output}\">", page);
        AssertSelfContained(page);
    }

    [Fact]
    public void CheckAndCompareWriteTheSamePage()
    {
        string root = Path.Combine(folder, "export"), html = Path.Combine(folder, "check.html");
        Assert.Equal(0, Bnverify.Run("export", root, "--case", "normal/nchw/train").ExitCode);
        ExternalProgram.Run(root, KernelCatalog.Create("faulty:one-element-64-ulp"));
        var check = Bnverify.Run("check", root, "--html", html);
        Assert.True(check.ExitCode == 1, check.Output + check.Error);
        string checkPage = File.ReadAllText(html);
        Assert.Contains("<figure class=\"damage\">", checkPage);
        Assert.Contains("y: 1 of 6272 elements over their bound", checkPage);
        AssertSelfContained(checkPage);

        string fixture = Path.Combine(Bnverify.RepositoryRoot(), "tests", "Fixtures", "PyTorch", "normal-nchw-train-forward");
        string compareHtml = Path.Combine(folder, "compare.html");
        var compare = Bnverify.Run("compare", "--x", Path.Combine(fixture, "x.npy"), "--gamma", Path.Combine(fixture, "gamma.npy"), "--beta", Path.Combine(fixture, "beta.npy"),
            "--y", Path.Combine(fixture, "y.npy"), "--html", compareHtml);
        Assert.True(compare.ExitCode == 0, compare.Output + compare.Error);
        string comparePage = File.ReadAllText(compareHtml);
        Assert.Contains("<h1>bnverify: external</h1>", comparePage);
        Assert.Contains("<figure class=\"output\" id=\"plot-y\">", comparePage);
        AssertSelfContained(comparePage);
    }

    /// <summary>
    /// The page in headless Chromium: every picture decodes, and the case table sorts by error/bound (the address's
    /// #sort=2- sorts it descending on load; the file's own order is not that order, so the sort is what the test sees).
    /// </summary>
    [RequiresChromiumFact]
    public void ChromiumRendersEveryPictureAndSortsTheCaseTable()
    {
        string page = Report("faulty:tail-wrong-stride");
        string path = Path.Combine(folder, "report.html");
        string dom = RequiresChromiumFactAttribute.DumpDom(new Uri(path).AbsoluteUri + "#sort=2-", Path.Combine(folder, "chromium"));

        int images = Occurrences(page, "<img ");
        Assert.True(images > 20, $"{images} images");
        Assert.Contains($"data-images-decoded=\"{images}\"", dom);
        Assert.Contains("data-images-broken=\"0\"", dom);

        double[] written = SortKeys(CaseTable(page)), shown = SortKeys(CaseTable(dom));
        double[] descending = [.. written.OrderDescending()];
        Assert.NotEqual(descending, written);
        Assert.Equal(descending, shown);
    }

    /// <summary>Nothing fetched from elsewhere: no external script, style, image or link target.</summary>
    private static void AssertSelfContained(string page)
    {
        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.EndsWith("</html>\n", page);
        Assert.DoesNotMatch("<(script|link|img)[^>]*(src|href)=\"(?!data:)", page);
        Assert.DoesNotContain("http://", page);
        Assert.DoesNotContain("https://", page);
        foreach (Match image in PngDataUri().Matches(page))
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], Convert.FromBase64String(image.Groups[1].Value)[..4]);
        Assert.True(PngDataUri().Count(page) > 0);
    }

    private static string CaseTable(string page) => page[page.IndexOf("<section id=\"cases\">", StringComparison.Ordinal)..];

    private static double[] SortKeys(string table) =>
        [.. SortKey().Matches(table).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    private static int Occurrences(string text, string what) => Regex.Count(text, Regex.Escape(what));

    [GeneratedRegex("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")]
    private static partial Regex PngDataUri();

    [GeneratedRegex("<td data-sort=\"([^\"]+)\">")]
    private static partial Regex SortKey();
}
