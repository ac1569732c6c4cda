using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Verification;

/// <summary>Runs a suite (or the cases whose name matches a filter) against a kernel.</summary>
internal static class Verifier
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

    /// <summary>
    /// Shard <paramref name="k"/> of <paramref name="n"/> (1-based): the cases whose name hashes to
    /// k - 1 modulo n, in suite order. Every case is in exactly one shard, and a case stays in its
    /// shard when others are added, as its seed does (<see cref="VerificationCase.NameHash"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1, or k outside 1..n.</exception>
    public static IReadOnlyList<VerificationCase> Shard(IReadOnlyList<VerificationCase> cases, int k, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (k < 1 || k > n)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"the shard must be 1 to {n}");
        return cases.Where(c => VerificationCase.NameHash(c.Name) % (uint)n == (uint)(k - 1)).ToArray();
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
