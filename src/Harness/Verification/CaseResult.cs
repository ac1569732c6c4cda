using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;

namespace BatchNorm.Harness.Verification;

/// <summary>What one kernel did on one case.</summary>
internal sealed record CaseResult
{
    public required VerificationCase Case { get; init; }

    public required string Kernel { get; init; }

    public required int SuiteSeed { get; init; }

    /// <summary>The numerical contract whose bounds the case was judged by.</summary>
    public required NumericalContract Contract { get; init; }

    public required IReadOnlyList<OutputComparison> Outputs { get; init; }

    public IReadOnlyList<string> Violations { get; init; } = [];

    /// <summary>Why the case is mistrusted, or null.</summary>
    public string? MistrustReason { get; init; }

    /// <summary>Accuracy-ratchet regressions: outputs whose error grew past the baseline.</summary>
    public IReadOnlyList<string> Regressions { get; init; } = [];

    public TimeSpan Elapsed { get; init; }

    public Verdict Verdict =>
        Violations.Count > 0 || Regressions.Count > 0 || Outputs.Any(o => !o.Passed) ? Verdict.Failed
        : MistrustReason is not null ? Verdict.Mistrusted
        : Verdict.Passed;

    /// <summary>The largest error-to-bound ratio over every output (the case's error/bound figure: 1 or below passes).</summary>
    public double WorstRatio => Outputs.Count == 0 ? 0 : Outputs.Max(o => o.WorstRatio);

    /// <summary>The bug the detectors name for the case (the output whose damage names it most specifically), or null (<see cref="Detectors.BugDetectors.Headline"/>).</summary>
    public (BatchNormOutput Output, Detectors.BugFinding Finding)? Diagnosis => Detectors.BugDetectors.Headline(Outputs);

    /// <summary>Overrides <see cref="Reproducer"/> when the case did not come from the battery.</summary>
    public string? ReproduceWith { get; init; }

    /// <summary>The command that reruns just this case.</summary>
    public string Reproducer => ReproduceWith ??
        $"{Invocation.Bnverify} verify --kernel {Kernel}{Case.Options.Activation.Flag()} --case {Case.Name} --seed {SuiteSeed.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
