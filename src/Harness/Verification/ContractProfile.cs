using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Verification;

/// <summary>How one candidate contract fared on one pass's cases.</summary>
/// <param name="Contract">The candidate.</param>
/// <param name="Failed">Cases of the pass with an output over its bound under it.</param>
/// <param name="FirstFailure">The first such case and output, or null.</param>
/// <param name="ElementBound">Σ over every element's bound of the pass's element-wise outputs: how the apply forms are compared.</param>
internal sealed record ContractTrial(NumericalContract Contract, int Failed, string? FirstFailure, double ElementBound)
{
    public bool Met => Failed == 0;
}

/// <summary>One pass's tightest contract in one layout, and how much tighter its bounds are than the default's.</summary>
/// <param name="Pass">The pass.</param>
/// <param name="Layout">The layout of its cases (a dense case is channels-last).</param>
/// <param name="Cases">How many cases of the pass were run.</param>
/// <param name="Tightest">The tightest contract every case of the pass met, or null when even the loosest failed.</param>
/// <param name="Shrink">Per output, the median over its elements and cases of (default bound / tightest bound): how many times tighter.</param>
/// <param name="Trials">Every candidate tried, in order.</param>
internal sealed record PassProfile(BatchNormPass Pass, Layout Layout, int Cases, NumericalContract? Tightest, IReadOnlyList<(BatchNormOutput Output, double Shrink)> Shrink,
    IReadOnlyList<ContractTrial> Trials);

/// <summary>
/// <c>bnverify profile</c>: which contract a kernel meets. The kernel runs once per case; its outputs are
/// then judged under candidate contracts, one part at a time from the loosest (folded without FMA, Welford or
/// rounded-centre statistics): first the tightest way of summing that every case of the pass meets, then with it
/// the tightest form of the statistics (two-pass, rounded-centre, then Welford), then the tightest apply form
/// (centred and folded-fma are not nested: both are tried and the one with the smaller bounds kept). Bounds
/// shrink along each part's order (Welford's are never below rounded-centre's, except that its mean of equal
/// values is exact: so both are tried with each way of summing). Only outputs are judged (not guards
/// such as determinism or out-of-bounds writes: verify checks those).
/// </summary>
internal static class ContractProfile
{
    /// <summary>The ways of summing tried, as sizes a real kernel uses: lanes of 8, 16 and 64 floats, blocks of 64 and 1024.</summary>
    private static readonly NumericalContract[] Sums =
    [
        new(Accumulation.Double, StatisticsForm.Welford, ApplyForm.Folded),
        new(Accumulation.FloatPairwise, StatisticsForm.Welford, ApplyForm.Folded),
        new(Accumulation.FloatLanes, StatisticsForm.Welford, ApplyForm.Folded, 64),
        new(Accumulation.FloatLanes, StatisticsForm.Welford, ApplyForm.Folded, 16),
        new(Accumulation.FloatLanes, StatisticsForm.Welford, ApplyForm.Folded, 8),
        new(Accumulation.FloatBlocked, StatisticsForm.Welford, ApplyForm.Folded, 64),
        new(Accumulation.FloatBlocked, StatisticsForm.Welford, ApplyForm.Folded, 1024),
        new(Accumulation.FloatSequential, StatisticsForm.Welford, ApplyForm.Folded),
    ];

    /// <summary>A case, its inputs and the kernel's outputs on them.</summary>
    private sealed record Run(VerificationCase Case, CaseInputs Inputs, IReadOnlyDictionary<BatchNormOutput, float[]> Outputs);

    /// <summary>Profiles <paramref name="kernel"/> on <paramref name="cases"/>, pass by pass and layout by layout (a kernel may sum differently in each), in pass order.</summary>
    public static IReadOnlyList<PassProfile> Profile(IBatchNormKernel kernel, IReadOnlyList<VerificationCase> cases, int seed)
    {
        var runs = cases.Select(c =>
        {
            var inputs = CaseInputs.Draw(c, seed);
            return new Run(c, inputs, KernelRun.Execute(kernel, c, inputs).Outputs);
        }).ToList();
        return runs.GroupBy(r => (r.Case.Pass, r.Case.Shape.Layout)).OrderBy(g => g.Key).Select(g => ProfilePass(g.Key.Pass, g.Key.Layout, g.ToList())).ToList();
    }

    private static PassProfile ProfilePass(BatchNormPass pass, Layout layout, List<Run> runs)
    {
        var trials = new List<ContractTrial>();
        ContractTrial Try(NumericalContract contract)
        {
            var trial = Judge(contract, runs);
            trials.Add(trial);
            return trial;
        }

        // Sums, ordered by their depth at the pass's median M (the order of their bounds there).
        long medianM = runs.Select(r => r.Case.Shape.M).Order().ElementAt(runs.Count / 2);
        var sums = Sums.OrderBy(c => c.Sums == Accumulation.Double ? -1 : c.SumDepth(medianM)).ToList();
        // Welford and the sums' forms do not nest on a zero-variance channel (Welford's mean of equal values is
        // exact, a float sum's is not), so a way of summing is met when either loosest form meets it.
        var chosen = sums.SelectMany(s => new[] { s, s with { Statistics = StatisticsForm.RoundedCentre } })
            .Select(Try).FirstOrDefault(t => t.Met)?.Contract;
        if (chosen is null)
            return new PassProfile(pass, layout, runs.Count, null, [], trials);

        // The forms tighter than the one met, tightest first.
        var tighter = new[] { StatisticsForm.TwoPass, StatisticsForm.RoundedCentre }.TakeWhile(f => f != chosen.Statistics);
        chosen = tighter.Select(f => Try(chosen with { Statistics = f })).FirstOrDefault(t => t.Met)?.Contract ?? chosen;

        var applied = new[] { ApplyForm.Centred, ApplyForm.FoldedFma }.Select(a => Try(chosen with { Apply = a })).Where(t => t.Met)
            .MinBy(t => t.ElementBound)?.Contract;
        chosen = applied ?? chosen;
        return new PassProfile(pass, layout, runs.Count, chosen, Shrinks(chosen, runs), trials);
    }

    private static ContractTrial Judge(NumericalContract contract, List<Run> runs)
    {
        int failed = 0;
        string? first = null;
        double elementBound = 0;
        foreach (var run in runs)
        {
            var violations = new List<string>();
            var expected = ExpectedOutputs.Compute(run.Case, run.Inputs, contract);
            elementBound += expected.Where(e => !e.PerChannel).Sum(e => e.Bounds.Where(double.IsFinite).Sum());
            var comparisons = CaseRunner.CompareOutputs(expected, run.Outputs, run.Case.Shape, violations);
            var bad = comparisons.FirstOrDefault(o => !o.Passed);
            if (bad is null && violations.Count == 0)
                continue;
            failed++;
            first ??= $"{run.Case.Name}: {(bad is null ? violations[0] : bad.Output.Name())}";
        }

        return new ContractTrial(contract, failed, first, elementBound);
    }

    /// <summary>
    /// Per output, the median over cases of each case's median of default bound / contract bound (over its
    /// elements whose two bounds are finite and nonzero): a case counts once whatever its size.
    /// </summary>
    private static IReadOnlyList<(BatchNormOutput, double)> Shrinks(NumericalContract contract, List<Run> runs)
    {
        var perCase = new Dictionary<BatchNormOutput, List<double>>();
        foreach (var run in runs)
        {
            var tight = ExpectedOutputs.Compute(run.Case, run.Inputs, contract);
            var loose = ExpectedOutputs.Compute(run.Case, run.Inputs, NumericalContract.Default);
            foreach (var (t, l) in tight.Zip(loose))
            {
                var ratios = new List<double>();
                for (int i = 0; i < t.Bounds.Length; i++)
                {
                    if (t.Bounds[i] > 0 && l.Bounds[i] > 0 && double.IsFinite(t.Bounds[i]) && double.IsFinite(l.Bounds[i]))
                        ratios.Add(l.Bounds[i] / t.Bounds[i]);
                }

                if (ratios.Count == 0)
                    continue;
                if (!perCase.TryGetValue(t.Name, out var list))
                    perCase[t.Name] = list = [];
                list.Add(Median(ratios));
            }
        }

        return perCase.OrderBy(p => p.Key).Select(p => (p.Key, Median(p.Value))).ToList();
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
