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

    /// <summary>S = 1 + 4u: a slack for products of (1 ± u) factors and second-order terms.</summary>
    public static readonly double S = 1 + (4 * Math.ScaleB(1.0, -24));

    /// <summary>double's unit roundoff, 2^-53.</summary>
    public static readonly double UDouble = Math.ScaleB(1.0, -53);

    /// <summary>
    /// The error factor F of a kernel's per-channel sum of M terms, divided by M, relative to the mean
    /// absolute term: float sums (depth(M) + 2)·u (the additions any term passes through, plus the
    /// rounding of the result and of the division by M: the pairwise (ceil(log2 M) + 2)·u of the
    /// default contract); double sums (M + 1)·2^-53 (any order of M - 1 double additions and the
    /// division), far below a float rounding.
    /// </summary>
    public static double SumFactor(NumericalContract contract, long m) =>
        contract.Sums == Accumulation.Double ? (Math.Max(m, 1) + 1) * UDouble : (contract.SumDepth(m) + 2) * U;

    /// <summary>Welford's runs and pairwise merge levels for M values: the sums' shape in float, one sequential run of M in double.</summary>
    private static (long Run, long Merges) WelfordShape(NumericalContract contract, long m) =>
        contract.Sums == Accumulation.Double ? (Math.Max(m, 1), 0L) : contract.SumShape(m);

    /// <summary>The unit roundoff the contract's sums and Welford updates run in.</summary>
    public static double SumUnit(NumericalContract contract) => contract.Sums == Accumulation.Double ? UDouble : U;

    /// <summary>One channel's data, as the statistics' bounds need it (from the reference, in double).</summary>
    /// <param name="M">Its element count.</param>
    /// <param name="Mean">Its exact mean.</param>
    /// <param name="Variance">Its exact biased variance.</param>
    /// <param name="MeanAbs">m1, the mean of |x|.</param>
    /// <param name="MaxAbs">X, the largest |x|.</param>
    /// <param name="Range">R, max x - min x.</param>
    public readonly record struct ChannelData(long M, double Mean, double Variance, double MeanAbs, double MaxAbs, double Range);

    /// <summary>How far a kernel's mean may be from the exact one.</summary>
    /// <param name="Output">E_mean: the batch mean it returns (a float).</param>
    /// <param name="Centre">E_m: the centre it subtracts in the variance and in y (the same, or smaller where it keeps the mean wider than a float).</param>
    /// <param name="Exact">True when the contract makes the mean exact on this channel (both bounds are then 0).</param>
    public readonly record struct MeanBound(double Output, double Centre, bool Exact);

    /// <summary>The formulas of <see cref="Mean"/>, as TOLERANCES.md prints them.</summary>
    public const string MeanFormula = "sums: E_mean = u|mean| + F(M) m1 + t, F = (depth(M) + 2) u in float, (M + 1) 2^-53 in double; " +
        "Welford (run r, L merge levels, unit v): E_mean = v(((r+1)/2 + L) X + (2 + 3L) R) (+ u|mean| in double) + t";

    /// <summary>
    /// The batch mean's bound under <paramref name="contract"/> (docs/tolerances.md, "Contracts"):
    /// sums: the sum's error F·m1 plus the rounding to float u|mean|; the centre of a two-pass kernel
    /// that keeps the mean at its sums' precision misses only F·m1. Welford over runs of r values with L
    /// pairwise merge levels, in unit v: each update rounds (x - a)/k and a + that, so the run's mean
    /// is within 2vR + v(r + 1)/2·X (the k-th update's error is damped by k/r by the later ones); each merge
    /// adds 3vR + vX (X = max|x|, R = max x - min x). A channel whose variance is 0 has an exact mean
    /// where the contract makes it so: one value (M = 1), double sums of equal floats, Welford (its
    /// deltas are 0); float sums of equal values keep their sum's bound.
    /// </summary>
    public static MeanBound Mean(NumericalContract contract, ChannelData d)
    {
        bool exact = d.Variance == 0 && (d.M == 1 || contract.Sums == Accumulation.Double || contract.Statistics == StatisticsForm.Welford);
        if (exact)
            return new MeanBound(0, 0, true);
        double rounding = U * Math.Abs(d.Mean);
        double sum = SumFactor(contract, d.M) * d.MeanAbs;
        double output = rounding + sum + Underflow;
        if (contract.Statistics == StatisticsForm.Welford)
        {
            var (run, merges) = WelfordShape(contract, d.M);
            double v = SumUnit(contract);
            double welford = S * v * ((((run + 1) / 2.0) + merges) * d.MaxAbs + ((2 + (3.0 * merges)) * d.Range));
            // Never below the rounded-centre bound, so the statistics forms nest (two-pass within rounded-centre within Welford).
            double total = Math.Max(welford + (contract.Sums == Accumulation.Double ? rounding : 0) + Underflow, output);
            return new MeanBound(total, total, false);
        }

        bool wideCentre = contract.Statistics == StatisticsForm.TwoPass && contract.Sums == Accumulation.Double;
        return new MeanBound(output, wideCentre ? sum + Underflow : output, false);
    }

    /// <summary>The formula of <see cref="Variance"/>.</summary>
    public const string VarianceFormula = "sums: E_var = (F(M) + 4u)(var + E_m^2) + E_m^2 + t; " +
        "Welford: E_var = S((r + 9 + 2L) v var + (2.42 + 2L) E_mean std + (1 + L) E_mean^2) (+ u var in double) + t";

    /// <summary>
    /// The biased batch variance's bound. Sums: Σ (x - c)² over a centre c within E_m of the mean is
    /// M (var + (mean - c)²) exactly; each term costs two roundings (the difference, the square), the
    /// sum F, the division and the result one each, so E_var = (F + 4u)(var + E_m²) + E_m². Welford
    /// (Chan, Golub and LeVeque's updating and pairwise algorithms, with float accumulators): each update
    /// adds p_k = (x - a_{k-1})(x - a_k) with three roundings, M2 accumulates over the run (r - 1 additions),
    /// and the running means' errors (at most E_mean) enter to first order through
    /// Σ E (|x_k - a_k| + |x_k - a_{k-1}|) ≤ (1 + √2) E sqrt(M Σ p_k) ≤ 2.42 E M std; each merge level adds
    /// δ² n_a n_b / n with δ within 2E: 2 E M std, and 2v M var for its additions; division and result 2v.
    /// A zero-variance channel with an exact mean has variance 0 exactly. Welford's bounds are never below
    /// the sums' (rounded-centre) ones, so the statistics forms nest, except on a zero-variance channel, where
    /// Welford's mean is exact and a float sum's is not.
    /// </summary>
    public static double Variance(NumericalContract contract, ChannelData d, MeanBound mean)
    {
        if (mean.Exact)
            return 0;
        double em = mean.Centre;
        double sums = S * (((SumFactor(contract, d.M) + (4 * U)) * (d.Variance + (em * em))) + (em * em)) + Underflow;
        if (contract.Statistics == StatisticsForm.Welford)
        {
            var (run, merges) = WelfordShape(contract, d.M);
            double v = SumUnit(contract);
            double welford = S * (((run + 9 + (2.0 * merges)) * v * d.Variance) + ((2.42 + (2.0 * merges)) * em * Math.Sqrt(d.Variance)) + ((1 + merges) * em * em));
            return Math.Max(welford + (contract.Sums == Accumulation.Double ? U * d.Variance : 0) + Underflow, sums);
        }

        return sums;
    }


    /// <summary>The formula of <see cref="InvStd"/>.</summary>
    public const string InvStdFormula = "E_istd = istd (E_var / (2 (var + eps)) + 3u) + t";

    /// <summary>1/sqrt(var + eps): half the variance's relative error, then sqrt, divide and rounding.</summary>
    public static double InvStd(double invStd, double variance, double epsilon, double varianceBound) =>
        invStd * ((0.5 * varianceBound / (variance + epsilon)) + 3 * U) + Underflow;

    /// <summary>The formula of <see cref="Running"/>.</summary>
    public const string RunningFormula = "w E_batch + 3u ((1-w)|old| + w|batch|) + u (w|old| + (1-w)|batch|) + u|new| + t";

    /// <summary>
    /// Running statistic (1-w)·old + w·batch: w times the batch value's bound, three roundings on the terms, the result's
    /// rounding, and a weight formed as 1 minus the other weight rounded to float: 1 - fl(w) is exact (Sterbenz) but
    /// carries fl(w)'s absolute error, up to u·w, which is u·w/(1-w) relative to 1 - w (9u at momentum 0.9). PyTorch's
    /// CPU kernel forms the old value's weight so; Keras forms the batch's as 1 - momentum.
    /// </summary>
    public static double Running(double weight, double old, double batchValue, double batchBound, double updated) =>
        weight * batchBound + 3 * U * (((1 - weight) * Math.Abs(old)) + weight * Math.Abs(batchValue))
        + U * ((weight * Math.Abs(old)) + ((1 - weight) * Math.Abs(batchValue))) + U * Math.Abs(updated) + Underflow;

    /// <summary>The formula of <see cref="DBeta"/>.</summary>
    public const string DBetaFormula = "E_dbeta = F(M) sum|dy| + u|dbeta| + t";

    /// <summary>dbeta = Σ dy: the contract's sum error on Σ|dy| , and the rounding.</summary>
    public static double DBeta(NumericalContract contract, long m, double sumAbsDy, double dbeta) =>
        SumFactor(contract, m) * sumAbsDy + U * Math.Abs(dbeta) + Underflow;

    /// <summary>The formula of <see cref="DGamma"/>.</summary>
    public const string DGammaFormula = "E_dgamma = (F(M) + 3u, inference 5u) sum|dy xhat| + u|dgamma| + t (1 + sum max(1, istd, |dy|))";

    /// <summary>
    /// dgamma = Σ dy·xhat: the contract's sum error plus <paramref name="termRoundings"/> float roundings per term (a term is
    /// formed in float even where it is summed in double) on Σ|dy·xhat|, and the rounding.
    /// </summary>
    /// <remarks>
    /// <paramref name="underflowScales"/> is Σ max(1, istd, |dy|) over the channel's terms: a term's first product may land
    /// among the subnormals, where it rounds with an absolute error (up to 2^-150) that no relative bound sees, and the
    /// factor applied after it (istd after dy (x - mean), or dy after (x - mean) istd) scales that error. PyTorch and
    /// oneDNN both form dy (x - mean) first in their inference backward: on subnormal data hunt found dgamma 121 gaps of
    /// 2^-149 from the reference, one underflowed product times istd = 316.
    /// </remarks>
    public static double DGamma(NumericalContract contract, long m, double sumAbsDyXhat, double dgamma, int termRoundings, double underflowScales) =>
        (SumFactor(contract, m) + termRoundings * U) * sumAbsDyXhat + U * Math.Abs(dgamma) + Underflow * (1 + underflowScales);
}
