using System.Text;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness;

/// <summary>What <see cref="BatchNormVerifier.Verify"/> found: one outcome per case, and the text <c>bnverify verify</c> prints for them.</summary>
public sealed class VerificationReport
{
    internal VerificationReport(string kernel, Suite suite, int seed, (int K, int N)? shard, IReadOnlyList<CaseResult> results, NumericalContract contract)
    {
        Kernel = kernel;
        Contract = contract;
        Shard = shard;
        Suite = suite;
        Seed = seed;
        Results = results;
        Cases = results.Select(r => new CaseOutcome(r.Case.Name, r.Verdict, r.WorstRatio, r.Case.Describe(),
            r.Verdict == Verdict.Passed ? null : TextReport.Failure(r))).ToArray();
    }

    /// <summary>The kernel's <see cref="Kernels.IBatchNormKernel.Name"/>.</summary>
    public string Kernel { get; }

    public Suite Suite { get; }

    /// <summary>The numerical contract every case was judged by.</summary>
    public NumericalContract Contract { get; }

    public int Seed { get; }

    /// <summary>The shard run (K of N), or null for the whole selection.</summary>
    public (int K, int N)? Shard { get; }

    /// <summary>Every case run, in suite order.</summary>
    public IReadOnlyList<CaseOutcome> Cases { get; }

    /// <summary>True when every case passed; a mistrusted case does not pass (as <c>bnverify verify</c> exits 1).</summary>
    public bool Passed => Cases.All(c => c.Verdict == Verdict.Passed);

    /// <summary>The largest error-to-bound ratio over every case; 0 when no case ran.</summary>
    public double WorstHeadroom => Cases.Count == 0 ? 0 : Cases.Max(c => c.Headroom);

    /// <summary>The full results, for bnverify's own reports.</summary>
    internal IReadOnlyList<CaseResult> Results { get; }

    /// <summary>"kernel, suite quick[, shard K/N], seed S: P passed, F failed, M mistrusted; worst error/bound R." as <c>bnverify verify</c> ends.</summary>
    public string Summary => TextReport.Summary(Kernel, Suite.ToString().ToLowerInvariant(), Shard, Seed, Results);

    /// <summary>Throws <see cref="BatchNormVerificationException"/>, whose message is this report, unless every case passed.</summary>
    public void EnsurePassed()
    {
        if (!Passed)
            throw new BatchNormVerificationException(this);
    }

    /// <summary>The summary line, then each failing or mistrusted case's report.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Summary).AppendLine();
        foreach (var failure in Cases.Where(c => c.Failure is not null))
            text.AppendLine().Append(failure.Failure);
        return text.ToString();
    }
}
