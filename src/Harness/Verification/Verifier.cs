using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Verification;

/// <summary>Runs a suite (or the cases whose name matches a filter) against a kernel.</summary>
public static class Verifier
{
    /// <summary>
    /// The cases of the suite whose name equals <paramref name="caseFilter"/> or starts with it
    /// followed by '/', or all of them when the filter is null.
    /// </summary>
    public static IReadOnlyList<VerificationCase> Select(Suite suite, string? caseFilter)
    {
        var cases = Battery.For(suite);
        if (caseFilter is null)
            return cases;
        var chosen = cases.Where(c => c.Name == caseFilter || c.Name.StartsWith(caseFilter + "/", StringComparison.Ordinal)).ToArray();
        if (chosen.Length == 0)
        {
            // A case of the full suite named on the command line of a quick run still runs.
            chosen = Battery.For(Suite.Full).Where(c => c.Name == caseFilter || c.Name.StartsWith(caseFilter + "/", StringComparison.Ordinal)).ToArray();
        }

        return chosen;
    }

    /// <summary>Runs the cases in order, reporting each result as it completes.</summary>
    public static IReadOnlyList<CaseResult> Run(IBatchNormKernel kernel, IReadOnlyList<VerificationCase> cases, int seed, Action<CaseResult>? progress = null)
    {
        var results = new List<CaseResult>(cases.Count);
        foreach (var @case in cases)
        {
            var result = CaseRunner.Run(kernel, @case, seed);
            results.Add(result);
            progress?.Invoke(result);
        }

        return results;
    }
}
