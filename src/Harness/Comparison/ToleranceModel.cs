namespace BatchNorm.Harness.Comparison;

/// <summary>
/// The bounds of the per-channel outputs (statistics, running statistics, parameter gradients),
/// from float32 error analysis with the data's own conditioning (docs/tolerances.md derives every
/// term); y and dx have structured models built on these (ErrorModel/StructuredBounds.cs). u = 2^-24 is float's unit roundoff;
/// <see cref="SumFactor"/> is the error of a pairwise or wider-precision sum of M terms;
/// <see cref="Underflow"/> is an absolute slack for gradual underflow. A bound of exactly 0 means
/// exactness is the claim.
/// </summary>
internal static class ToleranceModel
{
    /// <summary>float32 unit roundoff, 2^-24.</summary>
    public static readonly double U = Math.ScaleB(1.0, -24);

    /// <summary>Absolute slack of a few subnormal units, 2^-146, for results near underflow.</summary>
    public static readonly double Underflow = Math.ScaleB(1.0, -146);

    /// <summary>(ceil(log2 M) + 2)·u: a sum of M terms computed pairwise in float (or better) plus its final rounding.</summary>
    public static double SumFactor(long m) => (Math.Ceiling(Math.Log2(m)) + 2) * U;

    /// <summary>The formula of <see cref="Mean"/>, as TOLERANCES.md prints it.</summary>
    public const string MeanFormula = "E_mean = u|mean| + g(M) m1 + t";

    /// <summary>Batch mean: its rounding, plus the sum's error relative to the mean absolute value m1.</summary>
    public static double Mean(long m, double mean, double meanAbs) =>
        U * Math.Abs(mean) + SumFactor(m) * meanAbs + Underflow;

    /// <summary>The formula of <see cref="Variance"/>.</summary>
    public const string VarianceFormula = "E_var = (g(M) + 4u) var + E_mean^2 + t";

    /// <summary>
    /// Biased batch variance: sum of squares (positive terms, so relative), the deviations' and the
    /// squares' roundings, and the square of the mean's error, which a kernel that forms x - mean
    /// with a rounded mean adds in full.
    /// </summary>
    public static double Variance(long m, double variance, double meanBound) =>
        (SumFactor(m) + 4 * U) * variance + meanBound * meanBound + Underflow;

    /// <summary>The formula of <see cref="InvStd"/>.</summary>
    public const string InvStdFormula = "E_istd = istd (E_var / (2 (var + eps)) + 3u) + t";

    /// <summary>1/sqrt(var + eps): half the variance's relative error, then sqrt, divide and rounding.</summary>
    public static double InvStd(double invStd, double variance, double epsilon, double varianceBound) =>
        invStd * ((0.5 * varianceBound / (variance + epsilon)) + 3 * U) + Underflow;

    /// <summary>The formula of <see cref="Running"/>.</summary>
    public const string RunningFormula = "w E_batch + 3u ((1-w)|old| + w|batch|) + u|new| + t";

    /// <summary>Running statistic (1-w)·old + w·batch: w times the batch value's bound, three roundings on the terms, the result's rounding.</summary>
    public static double Running(double weight, double old, double batchValue, double batchBound, double updated) =>
        weight * batchBound + 3 * U * (((1 - weight) * Math.Abs(old)) + weight * Math.Abs(batchValue)) + U * Math.Abs(updated) + Underflow;

    /// <summary>The formula of <see cref="DBeta"/>.</summary>
    public const string DBetaFormula = "E_dbeta = g(M) sum|dy| + u|dbeta| + t";

    /// <summary>dbeta = Σ dy: the sum's error on Σ|dy|, and the rounding.</summary>
    public static double DBeta(long m, double sumAbsDy, double dbeta) =>
        SumFactor(m) * sumAbsDy + U * Math.Abs(dbeta) + Underflow;

    /// <summary>The formula of <see cref="DGamma"/>.</summary>
    public const string DGammaFormula = "E_dgamma = (g(M) + 3u, inference 5u) sum|dy xhat| + u|dgamma| + t";

    /// <summary>dgamma = Σ dy·xhat: the sum's error plus <paramref name="termRoundings"/> roundings per term on Σ|dy·xhat|, and the rounding.</summary>
    public static double DGamma(long m, double sumAbsDyXhat, double dgamma, int termRoundings) =>
        (SumFactor(m) + termRoundings * U) * sumAbsDyXhat + U * Math.Abs(dgamma) + Underflow;
}
