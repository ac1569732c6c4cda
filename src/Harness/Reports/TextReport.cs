using System.Globalization;
using System.Text;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Reports;

/// <summary>The plain-text failure report the console and the JUnit report share (the Markdown report is a table of its own).</summary>
internal static class TextReport
{
    /// <summary>"kernel, suite S[, shard K/N], seed N: P passed, F failed, M mistrusted; worst headroom H." (H is "-" when no case ran).</summary>
    public static string Summary(string kernel, string suite, (int K, int N)? shard, int seed, IReadOnlyList<CaseResult> results)
    {
        int passed = results.Count(r => r.Verdict == Verdict.Passed), failed = results.Count(r => r.Verdict == Verdict.Failed);
        int mistrusted = results.Count(r => r.Verdict == Verdict.Mistrusted);
        string sharded = shard is var (k, n) ? string.Create(CultureInfo.InvariantCulture, $", shard {k}/{n}") : "";
        string worst = results.Count == 0 ? "-" : ReportFormat.Short(results.Max(r => r.WorstRatio));
        string contract = results.Count == 0 ? "" : $"; contract {string.Join(", ", results.Select(r => r.Contract.ToString()).Distinct())}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{kernel}, suite {suite}{sharded}, seed {seed}: {passed} passed, {failed} failed, {mistrusted} mistrusted; worst headroom {worst}{contract}.");
    }

    /// <summary>
    /// A failing or mistrusted case: what was wrong, the ten worst elements of each failing output
    /// (index, expected, actual, error, bound, ULPs) and the one-line command that reproduces it.
    /// </summary>
    public static string Failure(CaseResult result)
    {
        var text = new StringBuilder();
        text.AppendLine($"{result.Case.Name} [{result.Kernel}] {result.Verdict.ToString().ToUpperInvariant()}: {result.Case.Describe()}");
        text.AppendLine($"  judged by contract {result.Contract}");
        if (result.Diagnosis is var (diagnosed, bug))
            text.AppendLine($"  diagnosis ({diagnosed.Name()}): {bug.Line}");
        foreach (string violation in result.Violations)
            text.AppendLine($"  {violation}");
        foreach (string regression in result.Regressions)
            text.AppendLine($"  ratchet: {regression}");
        if (result.MistrustReason is not null)
            text.AppendLine($"  mistrusted: {result.MistrustReason}");
        foreach (var output in result.Outputs.Where(o => !o.Passed))
        {
            text.AppendLine($"  {output.Output.Name()}: {output.OverBound} of {output.Count} elements over their bound ({output.NonFiniteMismatches} NaN/infinity mismatches), " +
                            $"{output.SystematicFailures.Count} channel(s) with a systematic error over its bound; headroom systematic {ReportFormat.Optional(output.SystematicRatio)}, " +
                            $"residual {ReportFormat.Optional(output.ResidualRatio)}");
            foreach (string finding in output.Findings)
                text.AppendLine($"    {finding}");
            if (output.FirstFailures.Count == 0)
                continue;
            text.AppendLine("    worst elements first:");
            text.AppendLine("    location                       expected                  actual           abs error   residual    bound       ulps");
            foreach (var e in output.FirstFailures)
            {
                text.AppendLine($"    {e.Location,-30} {ReportFormat.RoundTrip(e.Expected),-25} {ReportFormat.RoundTrip(e.Actual),-16} " +
                                $"{ReportFormat.Short(e.AbsoluteError),-11} {ReportFormat.Optional(e.Residual),-11} {ReportFormat.Short(e.Bound),-11} {ReportFormat.Ulps(e.Ulps)}");
            }
        }

        text.AppendLine($"  reproduce: {result.Reproducer}");
        return text.ToString();
    }
}
