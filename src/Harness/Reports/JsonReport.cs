using System.Text.Json;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Reports;

/// <summary>Every case and output as JSON (numbers round-trip, invariant culture).</summary>
internal static class JsonReport
{
    public static string Render(string kernel, string suite, int seed, IReadOnlyList<CaseResult> results, string? ratchet = null)
    {
        var document = new
        {
            kernel,
            suite,
            seed,
            ratchet,
            contracts = results.Select(r => r.Contract.ToString()).Distinct(),
            passed = results.Count(r => r.Verdict == Verdict.Passed),
            failed = results.Count(r => r.Verdict == Verdict.Failed),
            mistrusted = results.Count(r => r.Verdict == Verdict.Mistrusted),
            cases = results.Select(r => new
            {
                name = r.Case.Name,
                description = r.Case.Describe(),
                contract = r.Contract.ToString(),
                verdict = r.Verdict.ToString().ToLowerInvariant(),
                worstRatio = Finite(r.WorstRatio),
                violations = r.Violations,
                regressions = r.Regressions,
                mistrust = r.MistrustReason,
                reproduce = r.Reproducer,
                outputs = r.Outputs.Select(o => new
                {
                    output = o.Output.Name(),
                    count = o.Count,
                    maxAbsoluteError = Finite(o.MaxAbsoluteError),
                    maxRelativeError = Finite(o.MaxRelativeError),
                    maxUlps = o.MaxUlps == long.MaxValue ? (long?)null : o.MaxUlps,
                    worstRatio = Finite(o.WorstRatio),
                    systematicRatio = o.SystematicRatio is { } sr ? Finite(sr) : null,
                    residualRatio = o.ResidualRatio is { } rr ? Finite(rr) : null,
                    elementwiseChannels = o.ElementwiseChannels,
                    systematicFailures = o.SystematicFailures.Select(f => new { channel = f.Channel, coefficients = f.Coefficients.Select(Finite), bounds = f.Bounds.Select(Finite), ratio = Finite(f.Ratio) }),
                    findings = o.Findings,
                    firstFailures = o.FirstFailures.Select(e => new { location = e.Location, expected = Finite(e.Expected), actual = Finite(e.Actual), residual = e.Residual is { } r ? Finite(r) : null, bound = Finite(e.Bound) }),
                    overBound = o.OverBound,
                    nonFiniteMismatches = o.NonFiniteMismatches,
                    worst = o.Worst is null ? null : new { location = o.Worst.Location, expected = Finite(o.Worst.Expected), actual = Finite(o.Worst.Actual), bound = Finite(o.Worst.Bound) },
                }),
            }),
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true });
    }

    // JSON has no NaN or infinity; they are written as strings.
    private static object Finite(double value) => double.IsFinite(value) ? value : ReportFormat.RoundTrip(value);
}
