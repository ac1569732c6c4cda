using System.Globalization;
using System.Text;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Reports;

/// <summary>The plain-text failure report the console and the JUnit report share (the Markdown report is a table of its own).</summary>
internal static class TextReport
{
    /// <summary>
    /// What ran and how it went, in one line: "kernel, suite S[, relu][, bf16][, shard K/N], seed N: P passed, F failed,
    /// M mistrusted; worst error/bound R (CASE, OUTPUT; 1 or below passes); contract C." R is "-" when no output was compared.
    /// </summary>
    public static string Summary(string kernel, string suite, (int K, int N)? shard, int seed, IReadOnlyList<CaseResult> results)
    {
        int passed = results.Count(r => r.Verdict == Verdict.Passed), failed = results.Count(r => r.Verdict == Verdict.Failed);
        int mistrusted = results.Count(r => r.Verdict == Verdict.Mistrusted);
        string sharded = shard is var (k, n) ? string.Create(CultureInfo.InvariantCulture, $", shard {k}/{n}") : "";
        string variant = string.Concat(results.Select(r => r.Case.Options.Activation).Distinct().Where(a => a != Activation.None).Select(a => $", {a.Short()}"))
                         + string.Concat(results.Select(r => r.Case.Precision).Distinct().Where(p => p != DataPrecision.Float32).Select(p => $", {p.ShortName()}"));
        // Over the outputs compared: a case with none (every file missing) has no ratio, and its 0 would read as a pass.
        string worst = "-";
        if (results.Where(r => r.Outputs.Count > 0).MaxBy(r => r.WorstRatio) is { } worstCase)
            worst = $"{ReportFormat.Ratio(worstCase.WorstRatio)} ({worstCase.Case.Name}, {worstCase.Outputs.MaxBy(o => o.WorstRatio)!.Output.Name()}; 1 or below passes)";

        string contract = results.Count == 0 ? "" : $"; contract {string.Join(", ", results.Select(r => r.Contract.ToString()).Distinct())}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{kernel}, suite {suite}{variant}{sharded}, seed {seed}: {passed} passed, {failed} failed, {mistrusted} mistrusted; worst error/bound {worst}{contract}.");
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
                            $"{output.SystematicFailures.Count} channel(s) with a systematic error over its bound; error/bound systematic {ReportFormat.OptionalRatio(output.SystematicRatio)}, " +
                            $"residual {ReportFormat.OptionalRatio(output.ResidualRatio)}");
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
