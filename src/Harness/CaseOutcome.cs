namespace BatchNorm.Harness;

/// <summary>The verdict of one case of a <see cref="VerificationReport"/>.</summary>
/// <param name="Name">The case's name, e.g. "large-mean-1e4/nhwc/train".</param>
/// <param name="Verdict">Passed, failed, or mistrusted (within bounds but proving little).</param>
/// <param name="Headroom">The largest error-to-bound ratio over the case's outputs: below 1 is within bounds.</param>
/// <param name="Description">Shape, pass, convention and data of the case, on one line.</param>
/// <param name="Failure">What was wrong (findings, worst elements, how to rerun it), or null when it passed.</param>
public sealed record CaseOutcome(string Name, Verdict Verdict, double Headroom, string Description, string? Failure);
