namespace BatchNorm.Harness.Comparison.ErrorModel;

/// <summary>
/// The structured error models of y and dx (docs/tolerances.md, "Structured errors", derives every
/// term). Notation as in <see cref="ToleranceModel"/>; per channel: K = |gamma| istd, E_m the bound
/// on the centre the kernel subtracts (0 when it is an exact input), ρ the bound on istd's relative
/// error, S = 1 + 4u a slack for products of (1 ± u) factors.
/// </summary>
internal static class StructuredBounds
{
    private static readonly double U = ToleranceModel.U, T = ToleranceModel.Underflow, S = ToleranceModel.S;

    /// <summary>The formulas of <see cref="Y"/>, as TOLERANCES.md prints them (the fit's perturbation bound is added to each).</summary>
    public const string YSystematicFormula = "|c_1| <= S (K (1+rho) E_m + [folded] 2u K (1+rho)(|mean| + E_m) + u|beta|) + t, |c_xhat| <= S |gamma| (rho + u + rho u) + t";

    /// <inheritdoc cref="YSystematicFormula"/>
    public const string YResidualFormula = "S u (D_i + |y| + c-bounds) + t; D_i = 4K (1+rho)(|x - mean| + E_m + u|mean|) centred, 0 folded-fma, " +
        "max(that, K (1+rho)|x|) folded";

    /// <summary>The per-channel figures a y model needs.</summary>
    /// <param name="Gamma">Scale (1 when absent).</param>
    /// <param name="Beta">Shift (0 when absent).</param>
    /// <param name="Centre">The mean the reference subtracts: the batch mean (training) or the running mean (inference).</param>
    /// <param name="InvStd">The reference's 1/sqrt(var + eps).</param>
    /// <param name="CentreBound">E_m: how far the kernel's centre may be from <paramref name="Centre"/>.</param>
    /// <param name="InvStdBound">ρ: istd's relative error bound.</param>
    public readonly record struct YChannel(double Gamma, double Beta, double Centre, double InvStd, double CentreBound, double InvStdBound);

    /// <summary>
    /// y = gamma (x - mean) istd + beta, basis (1, xhat), under the contract's apply form. A kernel's
    /// float coefficients make
    /// intercept   C_1    = S (K (1+ρ) E_m + [folded] 2u K (1+ρ) (|mean| + E_m) + u |beta|) + t
    ///                      (the centre's error; folding b' = beta - mean·a rounds mean·a and b')
    /// slope       C_xhat = S |gamma| (ρ + u + ρu) + t    (istd's error; a = gamma·istd rounded)
    /// and each element's own operations round at most
    /// residual    R_i    = S u (D_i + |y| + C_1 + C_xhat |xhat|) + t
    /// with D_i = 4 K (1+ρ)(|x - mean| + E_m + u|mean|) centred ((x - m)·a + b with m a float or a
    /// float pair, gamma and istd as one product or two), 0 folded with an FMA (y = fma(x, a, b') rounds
    /// once, on y), and max(the centred term, K (1+ρ)|x|) folded without one (x·a rounds on |x a|; the
    /// default contract's form admits centred kernels too).
    /// A channel whose mean the contract makes exact (<paramref name="exact"/>: variance 0) gives, centred,
    /// (x - m)·a + b = 0·a + b = beta exactly (bound 0); folded, y = x·a + b' with b' = beta - m·a and
    /// m = x cancels only up to the fold's roundings: a rounded apart from the a in b' (u|x a|, without
    /// an FMA), the product m·a (u|x a|), b' (u(|beta| + |x a|)), y (u|beta|): C = 0 and
    /// R_i = S u (3 K |x| + 2 |beta|) + t, with an FMA S u (2 K |x| + 2 |beta|) + t.
    /// </summary>
    public static AffineErrorModel Y(in TensorShape shape, double[] x, double[] y, ApplyForm apply, Func<int, YChannel> channel, Func<int, bool> exact)
    {
        int n = x.Length;
        double[] one = new double[n], xhat = new double[n], residual = new double[n];
        var coefficients = new double[shape.C][];
        double[] meanFactor = new double[shape.C], centre = new double[shape.C], istdFactor = new double[shape.C];
        for (int c = 0; c < shape.C; c++)
        {
            var ch = channel(c);
            bool zero = exact(c);
            double k = Math.Abs(ch.Gamma) * ch.InvStd, rho = ch.InvStdBound, em = ch.CentreBound;
            double fold = apply == ApplyForm.Centred ? 0 : 2 * U * k * (1 + rho) * (Math.Abs(ch.Centre) + em);
            double c1 = S * ((k * (1 + rho) * em) + fold + (U * Math.Abs(ch.Beta))) + T;
            double cx = (S * Math.Abs(ch.Gamma) * (rho + U + (rho * U))) + T;
            coefficients[c] = zero ? [0, 0] : [c1, cx];
            meanFactor[c] = ch.Gamma * ch.InvStd == 0 ? 0 : -1 / (ch.Gamma * ch.InvStd);
            istdFactor[c] = ch.Gamma == 0 ? 0 : 1 / ch.Gamma;
            centre[c] = ch.Centre;
            double foldedZero = apply == ApplyForm.FoldedFma ? 2 : 3;
            foreach (int i in shape.ChannelOffsets(c))
            {
                one[i] = 1;
                xhat[i] = (x[i] - ch.Centre) * ch.InvStd;
                double centred = 4 * k * (1 + rho) * (Math.Abs(x[i] - ch.Centre) + em + (U * Math.Abs(ch.Centre)));
                double own = apply switch
                {
                    ApplyForm.Centred => centred,
                    ApplyForm.FoldedFma => 0,
                    ApplyForm.Folded => Math.Max(centred, k * (1 + rho) * Math.Abs(x[i])),
                    _ => throw new ArgumentOutOfRangeException(nameof(apply), apply, "not an apply form"),
                };
                residual[i] = !zero ? (S * U * (own + Math.Abs(y[i]) + c1 + (cx * Math.Abs(xhat[i])))) + T
                    : apply == ApplyForm.Centred ? 0
                    : (S * U * ((foldedZero * k * Math.Abs(x[i])) + (2 * Math.Abs(ch.Beta)))) + T;
            }
        }

        return new AffineErrorModel
        {
            BasisNames = ["1", "xhat"],
            Basis = [one, xhat],
            CoefficientBounds = coefficients,
            ResidualBounds = residual,
            Meanings =
            [
                new CoefficientMeaning("mean off by", meanFactor, centre, Relative: false, UlpOfName: "the mean"),
                new CoefficientMeaning("istd off by", istdFactor, null, Relative: true),
            ],
        };
    }

    /// <summary>The formulas of <see cref="TrainingDx"/>, as TOLERANCES.md prints them.</summary>
    public const string TrainingDxSystematicFormula =
        "c_1 <= S K/M ((rho + 3u)(1+rho)|dbeta| + (1+rho) E_dbeta + P istd E_m (|dgamma| + E_dgamma)) + t, c_dy <= S K (rho + u + rho u) + t, " +
        "c_xhat <= S K/M ((P(1+3u) - 1)|dgamma| + P(1+3u) E_dgamma) + t";

    /// <inheritdoc cref="TrainingDxSystematicFormula"/>
    public const string TrainingDxResidualFormula = "centred: S u (3K(|dy| + |dbeta|/M) + 4PK|dgamma|/M (|xhat| + istd E_m) + |dx| + c-bounds) + t; " +
        "folded: the same plus 2PK|dgamma|/M istd|x| inside, and c_1 plus S u (2|B|(|mean| + E_m) + K|dbeta|/M), |B| = PK istd (|dgamma| + E_dgamma)/M; " +
        "folded-fma: S u (K(1+rho)|dy| + 2(|dx| + c-bounds)) + t, c_1 as folded";

    /// <summary>The formulas of <see cref="InferenceDx"/>.</summary>
    public const string InferenceDxFormula = "c_dy <= S 4u K + t; residual S 2u (|dx| + c_dy|dy|) + t";

    /// <summary>The per-channel figures a training dx model needs.</summary>
    /// <param name="Gamma">Scale (1 when absent).</param>
    /// <param name="Mean">The saved mean the reference uses.</param>
    /// <param name="InvStd">The saved istd the reference uses.</param>
    /// <param name="DBeta">Σ dy.</param>
    /// <param name="DGamma">Σ dy·xhat.</param>
    /// <param name="DBetaBound">E_dbeta.</param>
    /// <param name="DGammaBound">E_dgamma, with the saved statistics' own error folded in.</param>
    /// <param name="MeanBound">E_m: how far the kernel's saved mean may be from <paramref name="Mean"/> (0 when both use the same floats).</param>
    /// <param name="InvStdBound">ρ: the same for istd, relative.</param>
    public readonly record struct DxChannel(double Gamma, double Mean, double InvStd, double DBeta, double DGamma, double DBetaBound, double DGammaBound, double MeanBound, double InvStdBound);

    /// <summary>
    /// Training dx = k1 (dy - dbeta/M - xhat dgamma/M), k1 = gamma istd, basis (1, dy, xhat).
    /// With P = (1+ρ)^2:
    /// constant  C_1    = S K/M ((ρ + 3u)(1+ρ)|dbeta| + (1+ρ) E_dbeta + P istd E_m (|dgamma| + E_dgamma)) + t
    /// dy        C_dy   = S K (ρ + u + ρu) + t
    /// xhat      C_xhat = S K/M ((P (1 + 3u) - 1)|dgamma| + P (1 + 3u) E_dgamma) + t
    /// residual, centred ((dy - mean(dy))·k1 + (x - m)·k2):
    ///           R_i    = S u (3K (|dy| + |dbeta|/M) + 4 P K |dgamma|/M (|xhat| + istd E_m) + |dx| + C_1 + C_dy |dy| + C_xhat |xhat|) + t
    /// A folded kernel computes dx = A dy + B x + C with C = -(B·m + A·dbeta/M), whose roundings
    /// (u|B m| twice, u|A dbeta/M|) are one constant per channel: C_1 grows by S u (2|B|(|m| + E_m) + K|dbeta|/M),
    /// |B| = P K istd (|dgamma| + E_dgamma)/M. Without an FMA, B·x rounds on |B x|: the residual adds
    /// 2 P K |dgamma|/M istd |x|. With FMAs, dx = fma(A, dy, fma(B, x, C)) rounds twice, on |B x + C| ≤ |dx| + K|dy|
    /// and on |dx|: R_i = S u (K (1+ρ)|dy| + 2 (|dx| + C_1 + C_dy |dy| + C_xhat |xhat|)) + t.
    /// The folded form's residual is the larger of its own and the FMA form's, so it admits every apply form.
    /// An exact channel (M = 1 in training, or dy all 0) has dx = 0 exactly centred, folded within S u K |dy| (an FMA's rounding of A dy).
    /// </summary>
    public static AffineErrorModel TrainingDx(in TensorShape shape, double[] x, double[] dy, double[] dx, ApplyForm apply, Func<int, DxChannel> channel, Func<int, bool> exact)
    {
        int n = x.Length;
        long m = shape.M;
        double[] one = new double[n], dyBasis = new double[n], xhat = new double[n], residual = new double[n];
        var coefficients = new double[shape.C][];
        double[] meanDyFactor = new double[shape.C], k1Factor = new double[shape.C], dgammaFactor = new double[shape.C];
        for (int c = 0; c < shape.C; c++)
        {
            var ch = channel(c);
            bool zero = exact(c);
            double k = Math.Abs(ch.Gamma) * ch.InvStd, rho = ch.InvStdBound, em = ch.MeanBound, p = (1 + rho) * (1 + rho);
            double absDb = Math.Abs(ch.DBeta), absDg = Math.Abs(ch.DGamma);
            double b = p * k * ch.InvStd * (absDg + ch.DGammaBound) / m;
            double fold = apply == ApplyForm.Centred ? 0 : S * U * ((2 * b * (Math.Abs(ch.Mean) + em)) + (k * absDb / m));
            double c1 = (S * k / m * (((rho + (3 * U)) * (1 + rho) * absDb) + ((1 + rho) * ch.DBetaBound) + (p * ch.InvStd * em * (absDg + ch.DGammaBound)))) + fold + T;
            double cdy = (S * k * (rho + U + (rho * U))) + T;
            double cx = (S * k / m * ((((p * (1 + (3 * U))) - 1) * absDg) + (p * (1 + (3 * U)) * ch.DGammaBound))) + T;
            coefficients[c] = zero ? [0, 0, 0] : [c1, cdy, cx];
            double k1 = ch.Gamma * ch.InvStd;
            meanDyFactor[c] = k1 == 0 ? 0 : -1 / k1;
            k1Factor[c] = k1 == 0 ? 0 : 1 / k1;
            dgammaFactor[c] = k1 == 0 ? 0 : -m / k1;
            foreach (int i in shape.ChannelOffsets(c))
            {
                one[i] = 1;
                dyBasis[i] = dy[i];
                xhat[i] = (x[i] - ch.Mean) * ch.InvStd;
                double coefficientsAt = c1 + (cdy * Math.Abs(dy[i])) + (cx * Math.Abs(xhat[i]));
                double centred = (3 * k * (Math.Abs(dy[i]) + (absDb / m))) + (4 * p * k * absDg / m * (Math.Abs(xhat[i]) + (ch.InvStd * em)));
                double fma = (k * (1 + rho) * Math.Abs(dy[i])) + (2 * (Math.Abs(dx[i]) + coefficientsAt));
                double own = apply switch
                {
                    ApplyForm.Centred => centred + Math.Abs(dx[i]) + coefficientsAt,
                    ApplyForm.FoldedFma => fma,
                    // Without an FMA, or any fold at all: it admits the other two forms' kernels as well.
                    ApplyForm.Folded => Math.Max(centred + (2 * p * k * absDg / m * ch.InvStd * Math.Abs(x[i])) + Math.Abs(dx[i]) + coefficientsAt, fma),
                    _ => throw new ArgumentOutOfRangeException(nameof(apply), apply, "not an apply form"),
                };
                // An exact channel (M = 1, or dy = 0) gives dx = 0 exactly centred; a folded kernel with an FMA
                // computes fma(A, dy, -fl(A dy)): the product's own rounding, u K |dy| (0 where dy is 0).
                residual[i] = !zero ? (S * U * own) + T
                    : apply == ApplyForm.Centred ? 0
                    : S * U * k * Math.Abs(dy[i]);
            }
        }

        return new AffineErrorModel
        {
            BasisNames = ["1", "dy", "xhat"],
            Basis = [one, dyBasis, xhat],
            CoefficientBounds = coefficients,
            ResidualBounds = residual,
            Meanings =
            [
                new CoefficientMeaning("mean(dy) off by", meanDyFactor, null, Relative: false),
                new CoefficientMeaning("gamma*istd off by", k1Factor, null, Relative: true),
                new CoefficientMeaning("dgamma off by", dgammaFactor, null, Relative: false),
            ],
        };
    }

    /// <summary>
    /// Inference dx = gamma istd dy, basis (dy): istd from the running variance (3 roundings) and
    /// gamma·istd (one more) make C_dy = S·4u K + t; the element's products round at most twice,
    /// R_i = S 2u (|dx| + C_dy |dy|) + t.
    /// </summary>
    public static AffineErrorModel InferenceDx(in TensorShape shape, double[] dy, double[] dx, Func<int, double> gamma, Func<int, double> invStd, Func<int, bool> exact)
    {
        int n = dy.Length;
        double[] dyBasis = new double[n], residual = new double[n];
        var coefficients = new double[shape.C][];
        double[] k1Factor = new double[shape.C];
        for (int c = 0; c < shape.C; c++)
        {
            bool zero = exact(c);
            double k1 = gamma(c) * invStd(c), cdy = (S * 4 * U * Math.Abs(k1)) + T;
            coefficients[c] = zero ? [0] : [cdy];
            k1Factor[c] = k1 == 0 ? 0 : 1 / k1;
            foreach (int i in shape.ChannelOffsets(c))
            {
                dyBasis[i] = dy[i];
                residual[i] = zero ? 0 : (S * 2 * U * (Math.Abs(dx[i]) + (cdy * Math.Abs(dy[i])))) + T;
            }
        }

        return new AffineErrorModel
        {
            BasisNames = ["dy"],
            Basis = [dyBasis],
            CoefficientBounds = coefficients,
            ResidualBounds = residual,
            Meanings = [new CoefficientMeaning("gamma*istd off by", k1Factor, null, Relative: true)],
        };
    }
}
