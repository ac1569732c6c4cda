namespace BatchNorm.Harness.Comparison.ErrorModel;

/// <summary>The fit of one channel's error to its affine basis.</summary>
/// <param name="Coefficients">The fitted systematic coefficients.</param>
/// <param name="Perturbation">
/// Per coefficient, how far element-wise rounding within its bounds can move the fitted value:
/// Δ_k = Σ_{j in fit} |(G⁻¹ q_j)_k| (see <see cref="AffineFit"/>).
/// </param>
/// <param name="Inliers">How many elements the final least-squares fit used.</param>
internal sealed record ChannelFit(double[] Coefficients, double[] Perturbation, int Inliers);

/// <summary>
/// A robust fit of a channel's errors r_i to its basis b_i, in units of each element's residual
/// bound R_i (z_i = r_i / R_i, q_i = b_i / R_i), in three steps:
/// 1. least absolute deviations (iteratively reweighted least squares), which a handful of damaged
///    elements, or a lane of every vector, cannot pull: it fits through the majority;
/// 2. the inliers, elements within 2 of their bound after step 1;
/// 3. least squares on the inliers, repeated without any inlier the check then flags.
/// Soundness does not depend on which elements step 2 keeps. For a correct kernel
/// r_j = b_jᵀs + e_j with |e_j| ≤ R_j, so the least-squares coefficients are s + δ with
/// δ = G⁻¹ Σ q_j (e_j/R_j), |δ_k| ≤ Δ_k = Σ_j |(G⁻¹ q_j)_k|, and each element's fitted residual
/// r_i - b_iᵀc = e_i - b_iᵀδ is within R_i + Σ_k |b_ik| Δ_k. Both sums run in double: the
/// normalized values are O(1) to O(1/u), far from double's limits, and the fit's own rounding is
/// ~2^-50 relative, below anything the bounds resolve.
/// </summary>
internal static class AffineFit
{
    private const int LadIterations = 40;
    private const double InlierThreshold = 2;
    private const int Refits = 4;

    /// <summary>
    /// Fits the errors of the elements <paramref name="indices"/>, or returns null when the basis
    /// restricted to them is degenerate (fewer than <see cref="AffineErrorModel.ElementsPerBasisFunction"/>
    /// elements per function, or functions that are nearly dependent, e.g. every xhat equal).
    /// </summary>
    public static ChannelFit? Fit(AffineErrorModel model, IReadOnlyList<int> indices, ReadOnlySpan<double> errors)
    {
        int p = model.BasisSize, m = indices.Count;
        if (m < AffineErrorModel.ElementsPerBasisFunction * p)
            return null;
        double[] z = new double[m];
        double[][] q = new double[m][];
        for (int j = 0; j < m; j++)
        {
            int i = indices[j];
            double r = model.ResidualBounds[i];
            z[j] = errors[j] / r;
            q[j] = new double[p];
            for (int k = 0; k < p; k++)
                q[j][k] = model.Basis[k][i] / r;
        }

        double[] weights = Enumerable.Repeat(1.0, m).ToArray();
        double[]? c = WeightedLeastSquares(q, z, weights, out _);
        if (c is null)
            return null;
        for (int iteration = 0; iteration < LadIterations; iteration++)
        {
            // IRLS for min Σ|z - qᵀc|: weight 1/|residual|, floored so exact fits stay finite.
            for (int j = 0; j < m; j++)
                weights[j] = 1 / Math.Max(Math.Abs(z[j] - Dot(q[j], c)), 1e-3);
            double[]? next = WeightedLeastSquares(q, z, weights, out _);
            if (next is null)
                break;
            c = next;
        }

        bool[] inlier = new bool[m];
        for (int j = 0; j < m; j++)
            inlier[j] = Math.Abs(z[j] - Dot(q[j], c)) <= InlierThreshold;
        if (inlier.Count(b => b) < AffineErrorModel.ElementsPerBasisFunction * p)
            Array.Fill(inlier, true);

        ChannelFit? fit = null;
        for (int round = 0; round < Refits; round++)
        {
            double[] w = Array.ConvertAll(inlier, b => b ? 1.0 : 0.0);
            double[]? coefficients = WeightedLeastSquares(q, z, w, out double[,]? inverse);
            // Stryker disable once Logical : equivalent, the two are null together.
            if (coefficients is null || inverse is null)
                return fit;
            double[] delta = new double[p];
            for (int j = 0; j < m; j++)
            {
                if (!inlier[j])
                    continue;
                for (int k = 0; k < p; k++)
                {
                    double g = 0;
                    for (int l = 0; l < p; l++)
                    {
                        // Stryker disable once Assignment : equivalent, only |g| is used.
                        g += inverse[k, l] * q[j][l];
                    }

                    delta[k] += Math.Abs(g);
                }
            }

            fit = new ChannelFit(coefficients, delta, inlier.Count(b => b));
            bool changed = false;
            for (int j = 0; j < m; j++)
            {
                if (inlier[j] && Math.Abs(z[j] - Dot(q[j], coefficients)) > 1 + Dot(Abs(q[j]), delta))
                {
                    inlier[j] = false;
                    changed = true;
                }
            }

            if (!changed || inlier.Count(b => b) < AffineErrorModel.ElementsPerBasisFunction * p)
                break;
        }

        return fit;
    }

    /// <summary>Solves (Σ w q qᵀ) c = Σ w q z by Gaussian elimination with partial pivoting on the scaled normal matrix; null when it is near singular.</summary>
    private static double[]? WeightedLeastSquares(double[][] q, double[] z, double[] w, out double[,]? inverse)
    {
        int p = q[0].Length;
        var g = new double[p, p];
        var rhs = new double[p];
        for (int j = 0; j < q.Length; j++)
        {
            if (w[j] == 0)
                continue;
            for (int k = 0; k < p; k++)
            {
                rhs[k] += w[j] * q[j][k] * z[j];
                for (int l = 0; l < p; l++)
                    g[k, l] += w[j] * q[j][k] * q[j][l];
            }
        }

        inverse = Invert(g);
        if (inverse is null)
            return null;
        double[] c = new double[p];
        for (int k = 0; k < p; k++)
        {
            for (int l = 0; l < p; l++)
                c[k] += inverse[k, l] * rhs[l];
        }

        return c;
    }

    /// <summary>
    /// The inverse of a symmetric positive semidefinite p×p matrix, or null when, scaled to a unit
    /// diagonal, a pivot falls below 1e-9: the basis functions are then (nearly) dependent on these
    /// elements and the fit cannot tell them apart.
    /// </summary>
    private static double[,]? Invert(double[,] g)
    {
        int p = g.GetLength(0);
        double[] scale = new double[p];
        for (int k = 0; k < p; k++)
        {
            if (!(g[k, k] > 0) || !double.IsFinite(g[k, k]))
                return null;
            scale[k] = 1 / Math.Sqrt(g[k, k]);
        }

        var a = new double[p, 2 * p];
        for (int k = 0; k < p; k++)
        {
            for (int l = 0; l < p; l++)
                a[k, l] = g[k, l] * scale[k] * scale[l];
            a[k, p + k] = 1;
        }

        for (int col = 0; col < p; col++)
        {
            int pivot = col;
            // Stryker disable once Equality : equivalent for row > p, no pivot search: elimination in order, which a unit-diagonal positive definite matrix allows.
            for (int row = col + 1; row < p; row++)
            {
                // Stryker disable once Equality : equivalent for >=, which differs on ties only (< is not: AnOrthogonalBasisIsFittedExactly catches it).
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col]))
                    pivot = row;
            }

            // Stryker disable once Equality : equivalent for <=, a pivot of exactly 1e-9 (> refuses every matrix, which every fit test catches).
            if (Math.Abs(a[pivot, col]) < 1e-9)
                return null;
            // Stryker disable once Equality,Arithmetic : equivalent, skipping the swap is elimination in order (above).
            for (int k = 0; k < 2 * p; k++)
                (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
            double d = a[col, col];
            for (int k = 0; k < 2 * p; k++)
                a[col, k] /= d;
            for (int row = 0; row < p; row++)
            {
                if (row == col)
                    continue;
                double f = a[row, col];
                for (int k = 0; k < 2 * p; k++)
                    a[row, k] -= f * a[col, k];
            }
        }

        var inverse = new double[p, p];
        for (int k = 0; k < p; k++)
        {
            for (int l = 0; l < p; l++)
                inverse[k, l] = a[k, p + l] * scale[k] * scale[l];
        }

        return inverse;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int k = 0; k < a.Length; k++)
            sum += a[k] * b[k];
        return sum;
    }

    private static double[] Abs(double[] a) => Array.ConvertAll(a, Math.Abs);
}
