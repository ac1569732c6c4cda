using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// The detectors that name a bug from its damage, tried on each failing output before the generic pattern line: the
/// finding that explains the most damaged elements (at least 90% of them) is printed first, as "bug: ...". They run only
/// on failures, so a passing case costs nothing.
/// </summary>
internal static class BugDetectors
{
    /// <summary>
    /// In order of preference where two explain the same damage: the more specific reading first (a ReLU gate before a
    /// missing term: with one sample, a sum under the wrong gate and a sum of nothing can look alike).
    /// </summary>
    private static readonly Func<Damage, BugFinding?>[] Detectors =
    [
        FormulaDetector.Detect, CancellationDetector.Detect, CoefficientDetector.Detect, GateDetector.Detect, MissingTermDetector.Detect, RoundingDirectionDetector.Detect, TailDetector.Detect, StrideDetector.Detect, ShiftDetector.Detect,
        SignOrScaleDetector.Detect, StaleValueDetector.Detect,
    ];

    /// <summary>
    /// The case's diagnosis: of its outputs' findings, the one of the most specific kind (the order of
    /// <see cref="Detectors"/>: a wrong formula for istd explains the y it spoils too), then the one explaining most.
    /// </summary>
    public static (BatchNormOutput Output, BugFinding Finding)? Headline(IEnumerable<OutputComparison> outputs) =>
        outputs.Where(o => o.Bug is not null).Select(o => (o.Output, Finding: o.Bug!))
            .OrderBy(o => Array.IndexOf(Preference, o.Finding.Kind)).ThenByDescending(o => o.Finding.Explained)
            .Select(o => ((BatchNormOutput, BugFinding)?)o).FirstOrDefault();

    /// <summary>The kinds in the order of <see cref="Detectors"/>.</summary>
    private static readonly BugKind[] Preference =
        [BugKind.Formula, BugKind.Gate, BugKind.MissingTerm, BugKind.RoundingDirection, BugKind.Tail, BugKind.Stride, BugKind.Shift, BugKind.SignOrScale, BugKind.StaleValue];

    /// <summary>The best reading of one output's damage, or null when none explains 90% of it.</summary>
    public static BugFinding? Diagnose(Damage damage)
    {
        BugFinding? best = null;
        foreach (var detect in Detectors)
        {
            if (detect(damage) is { } finding && (best is null || finding.Explained > best.Explained))
                best = finding;
        }

        return best;
    }

    /// <summary>Each failing comparison with its bug finding first among its findings, where a detector names one.</summary>
    public static List<OutputComparison> Annotate(VerificationCase @case, CaseInputs inputs, IReadOnlyList<ExpectedOutput> expected, IReadOnlyList<OutputComparison> comparisons,
        IReadOnlyDictionary<BatchNormOutput, float[]> outputs)
    {
        var annotated = new List<OutputComparison>(comparisons.Count);
        foreach (var comparison in comparisons)
        {
            var output = expected.FirstOrDefault(e => e.Name == comparison.Output);
            if (comparison.Passed || output is null || !outputs.TryGetValue(comparison.Output, out float[]? actual)
                || Damage.Of(@case, inputs, expected, output, actual) is not { } damage)
            {
                annotated.Add(comparison);
                continue;
            }

            annotated.Add(Diagnose(damage) is { } finding
                ? comparison with { Findings = [$"bug: {finding.Line}", .. comparison.Findings], Bug = finding, Damaged = damage.Damaged }
                : comparison with { Damaged = damage.Damaged });
        }

        return annotated;
    }
}
