using System.Globalization;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Verification;

/// <summary>Runs a suite (or the cases whose name matches a filter) against a kernel.</summary>
internal static class Verifier
{
    /// <summary>
    /// The cases of the suite (fusing <paramref name="activation"/>, data in <paramref name="precision"/>)
    /// whose name equals <paramref name="caseFilter"/> or starts with it followed by '/', or all of
    /// them when the filter is null.
    /// </summary>
    public static IReadOnlyList<VerificationCase> Select(Suite suite, string? caseFilter, Activation activation = Activation.None, DataPrecision precision = DataPrecision.Float32)
    {
        var cases = Battery.For(suite, activation, precision);
        if (caseFilter is null)
            return cases;
        var chosen = cases.Where(c => Matches(c.Name, caseFilter)).ToArray();
        if (chosen.Length == 0)
        {
            // A case of the full suite named on the command line of a quick run still runs.
            chosen = Battery.For(Suite.Full, activation, precision).Where(c => Matches(c.Name, caseFilter)).ToArray();
        }

        return chosen;
    }

    /// <summary>True when a case of that name is selected by <c>--case FILTER</c>: the name itself, or a prefix of it followed by '/'.</summary>
    public static bool Matches(string caseName, string filter) =>
        caseName == filter || caseName.StartsWith(filter + "/", StringComparison.Ordinal);

    /// <summary>"K/N" with 1 &lt;= K &lt;= N as (K, N), or null for anything else (strict invariant digits).</summary>
    public static (int K, int N)? ParseShard(string text)
    {
        string[] parts = text.Split('/');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && k >= 1 && k <= n
            ? (k, n) : null;
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

    /// <summary>Runs the cases in order under <paramref name="contract"/> (default: the kernel's own), reporting each result as it completes.</summary>
    public static IReadOnlyList<CaseResult> Run(IBatchNormKernel kernel, IReadOnlyList<VerificationCase> cases, int seed, Action<CaseResult>? progress = null,
        NumericalContract? contract = null)
    {
        var results = new List<CaseResult>(cases.Count);
        foreach (var @case in cases)
        {
            var result = CaseRunner.Run(kernel, @case, seed, contract);
            results.Add(result);
            progress?.Invoke(result);
        }

        return results;
    }
}
