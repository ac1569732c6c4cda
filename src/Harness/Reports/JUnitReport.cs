using System.Globalization;
using System.Xml.Linq;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Reports;

/// <summary>JUnit XML: one testcase per case, so a CI server lists each.</summary>
internal static class JUnitReport
{
    public static string Render(string kernel, string suite, IReadOnlyList<CaseResult> results, string? ratchet = null)
    {
        var testSuite = new XElement("testsuite",
            new XAttribute("name", $"bnverify {suite} {kernel}"),
            new XAttribute("tests", results.Count),
            new XAttribute("failures", results.Count(r => r.Verdict != Verdict.Passed)),
            new XAttribute("time", results.Sum(r => r.Elapsed.TotalSeconds).ToString("0.###", CultureInfo.InvariantCulture)),
            new XElement("properties",
                results.Select(r => r.Contract.ToString()).Distinct().Select(c => new XElement("property", new XAttribute("name", "contract"), new XAttribute("value", c))),
                ratchet is null ? null : new XElement("property", new XAttribute("name", "ratchet"), new XAttribute("value", ratchet))));
        foreach (var result in results)
        {
            var testCase = new XElement("testcase",
                new XAttribute("classname", $"bnverify.{kernel}"),
                new XAttribute("name", result.Case.Name),
                new XAttribute("time", result.Elapsed.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)));
            if (result.Verdict != Verdict.Passed)
            {
                testCase.Add(new XElement("failure",
                    new XAttribute("message", result.Verdict == Verdict.Mistrusted ? "mistrusted" : "failed"),
                    TextReport.Failure(result)));
            }

            testSuite.Add(testCase);
        }

        return new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", testSuite)).ToString();
    }
}
