using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Reports;

/// <summary>
/// One output's figures over every case that has it, as the datasheet and the HTML report open with them: the worst
/// error/bound and its case, the worst absolute, relative and ULP errors, and how many cases are exact (error 0).
/// </summary>
internal sealed record OutputSummary(BatchNormOutput Output, int Cases, double WorstRatio, string WorstCase, double MaxAbsoluteError, double MaxRelativeError, long MaxUlps, int ExactCases)
{
    /// <summary>One row per output present in <paramref name="results"/>, in the order outputs are named; none for no results.</summary>
    public static IReadOnlyList<OutputSummary> Of(IReadOnlyList<CaseResult> results) =>
        [.. results.SelectMany(r => r.Outputs.Select(o => (Case: r.Case.Name, Output: o))).GroupBy(x => x.Output.Output).OrderBy(g => g.Key).Select(group =>
        {
            var worst = group.MaxBy(x => x.Output.WorstRatio);
            return new OutputSummary(group.Key, group.Count(), worst.Output.WorstRatio, worst.Case, group.Max(x => x.Output.MaxAbsoluteError),
                group.Max(x => x.Output.MaxRelativeError), group.Max(x => x.Output.MaxUlps), group.Count(x => x.Output.MaxAbsoluteError == 0));
        })];
}
