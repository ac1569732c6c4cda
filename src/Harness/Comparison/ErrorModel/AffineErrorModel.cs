namespace BatchNorm.Harness.Comparison.ErrorModel;

/// <summary>What one coefficient of a channel's systematic error is equivalent to, for the diagnosis line.</summary>
/// <param name="Equivalent">e.g. "mean off by": the quantity a kernel got wrong to make this coefficient.</param>
/// <param name="Factor">Per channel: coefficient times factor = the equivalent error.</param>
/// <param name="UlpOf">Per channel, or null: the value whose float ULP the equivalent error is also given in.</param>
/// <param name="Relative">True when the equivalent error is relative (printed "relative").</param>
/// <param name="UlpOfName">How the diagnosis names <paramref name="UlpOf"/>, e.g. "the mean".</param>
internal sealed record CoefficientMeaning(string Equivalent, double[] Factor, double[]? UlpOf, bool Relative, string UlpOfName = "");

/// <summary>
/// The structured error model of one element-wise output (y or dx), docs/tolerances.md
/// "Structured errors". Per channel, a float kernel's error is
/// <c>sum_k coef_k·basis_k(i) + residual(i)</c>: the coefficients come from the per-channel
/// statistics and coefficients it computes once (mean, istd, a, b', dbeta, dgamma, mean(dy)) and
/// are bounded by <see cref="CoefficientBounds"/>; the residual is the element-wise rounding of
/// the few operations applied to each element, bounded by <see cref="ResidualBounds"/>.
/// </summary>
internal sealed record AffineErrorModel
{
    /// <summary>Names of the basis functions, e.g. ["1", "xhat"].</summary>
    public required string[] BasisNames { get; init; }

    /// <summary>Basis function k at flat element i: <c>Basis[k][i]</c>. Every channel uses the same functions on its own elements.</summary>
    public required double[][] Basis { get; init; }

    /// <summary>Bound of coefficient k in channel c: <c>CoefficientBounds[c][k]</c>.</summary>
    public required double[][] CoefficientBounds { get; init; }

    /// <summary>Bound of each element's residual (element-wise rounding), by flat index.</summary>
    public required double[] ResidualBounds { get; init; }

    /// <summary>
    /// Elements the fit leaves out and holds to their <see cref="CombinedBound"/> instead, by flat
    /// index, or null for none: under a fused ReLU, those a correct kernel may have clamped to 0.
    /// </summary>
    public bool[]? Unfitted { get; init; }

    /// <summary>How to read each coefficient in a diagnosis.</summary>
    public required CoefficientMeaning[] Meanings { get; init; }

    /// <summary>The fewest elements per basis function a channel needs for the fit to separate the parts.</summary>
    public const int ElementsPerBasisFunction = 4;

    public int BasisSize => BasisNames.Length;

    /// <summary>
    /// The element-wise bound when the fit cannot separate (too few elements, a degenerate basis):
    /// the systematic part's worst case at this element plus its residual bound. Sound, and what
    /// every element gets when the model cannot be fitted.
    /// </summary>
    public double CombinedBound(int channel, int index)
    {
        double bound = ResidualBounds[index];
        for (int k = 0; k < BasisSize; k++)
            bound += CoefficientBounds[channel][k] * Math.Abs(Basis[k][index]);
        return bound;
    }
}
