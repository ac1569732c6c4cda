using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison.ErrorModel;
using BatchNorm.Harness.Reports;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The structured model's fit and its diagnosis line on one channel built by hand: basis (1, t), every residual bound R,
/// so the coefficients and the perturbation bound Δ_k = Σ_j |(G⁻¹ q_j)_k| can be worked out here with a 2x2 inverse.
/// </summary>
public class AffineFitTests
{
    private const double R = 1e-7;

    private static AffineErrorModel Model(int m, Func<int, double> t) => new()
    {
        BasisNames = ["1", "t"],
        Basis = [Enumerable.Repeat(1.0, m).ToArray(), Enumerable.Range(0, m).Select(t).ToArray()],
        CoefficientBounds = [[1e-6, 1e-6]],
        ResidualBounds = Enumerable.Repeat(R, m).ToArray(),
        Meanings =
        [
            new CoefficientMeaning("mean off by", [-2.0], [3.0], Relative: false, UlpOfName: "the mean"),
            new CoefficientMeaning("istd off by", [0.5], null, Relative: true),
        ],
    };

    private static double T(int j) => (j % 13) - 6.5;

    /// <summary>Δ for basis (1, t) and constant R over the given elements, by the 2x2 inverse of G = Σ q qᵀ.</summary>
    private static (double Delta0, double Delta1) Perturbation(IReadOnlyList<int> elements, Func<int, double> t)
    {
        double g00 = elements.Count / (R * R), g01 = elements.Sum(j => t(j)) / (R * R), g11 = elements.Sum(j => t(j) * t(j)) / (R * R);
        double det = (g00 * g11) - (g01 * g01);
        return (elements.Sum(j => Math.Abs((g11 - (g01 * t(j))) / det / R)), elements.Sum(j => Math.Abs(((g00 * t(j)) - g01) / det / R)));
    }

    [Fact]
    public void FewerThanFourElementsAFunctionIsNoFit()
    {
        Assert.Null(AffineFit.Fit(Model(7, T), [.. Enumerable.Range(0, 7)], new double[7]));
        Assert.NotNull(AffineFit.Fit(Model(8, T), [.. Enumerable.Range(0, 8)], new double[8]));
    }

    [Fact]
    public void ANearlyConstantBasisFunctionIsNoFit()
    {
        // t = 1 + 1e-12 j: against the constant function, dependent to far below the pivot limit of 1e-9.
        Assert.Null(AffineFit.Fit(Model(64, j => 1 + (1e-12 * j)), [.. Enumerable.Range(0, 64)], new double[64]));
        Assert.NotNull(AffineFit.Fit(Model(64, j => 1 + (1e-2 * j)), [.. Enumerable.Range(0, 64)], new double[64]));
    }

    [Fact]
    public void AnAffineErrorIsRecoveredWithItsPerturbationBound()
    {
        int m = 64;
        int[] all = [.. Enumerable.Range(0, m)];
        double[] errors = [.. all.Select(j => 3e-7 - (2e-8 * T(j)))];
        var fit = AffineFit.Fit(Model(m, T), all, errors)!;
        Assert.Equal(3e-7, fit.Coefficients[0], 1e-15);
        Assert.Equal(-2e-8, fit.Coefficients[1], 1e-15);
        var (delta0, delta1) = Perturbation(all, T);
        Assert.Equal(delta0, fit.Perturbation[0], delta0 * 1e-9);
        Assert.Equal(delta1, fit.Perturbation[1], delta1 * 1e-9);
        Assert.Equal(m, fit.Inliers);
    }

    [Fact]
    public void DamagedElementsAreLeftOutAndRoundingMovesTheFitWithinItsPerturbation()
    {
        // 64 elements on the line, 3 moved far (1000 R) and 4 by 0.9 R (rounding within its bound): the far ones leave
        // the fit, the others stay, and the coefficients move from the line by no more than the perturbation bound.
        int m = 64;
        int[] all = [.. Enumerable.Range(0, m)];
        int[] far = [5, 20, 41], near = [10, 30, 50, 60];
        double[] errors = [.. all.Select(j => 3e-7 - (2e-8 * T(j)) + (far.Contains(j) ? 1000 * R : near.Contains(j) ? 0.9 * R : 0))];
        var fit = AffineFit.Fit(Model(m, T), all, errors)!;
        Assert.Equal(m - far.Length, fit.Inliers);
        var (delta0, delta1) = Perturbation([.. all.Except(far)], T);
        Assert.Equal(delta0, fit.Perturbation[0], delta0 * 1e-9);
        Assert.Equal(delta1, fit.Perturbation[1], delta1 * 1e-9);
        Assert.InRange(fit.Coefficients[0], 3e-7 + 1e-12, 3e-7 + delta0);
        Assert.InRange(Math.Abs(fit.Coefficients[1] + 2e-8), 0, delta1);
    }

    [Fact]
    public void WhenFewerThanFourAFunctionWouldRemainEveryElementIsFitted()
    {
        // 8 elements, 5 of them damaged by different amounts: too few would be left to separate, so all 8 are fitted.
        int m = 8;
        int[] all = [.. Enumerable.Range(0, m)];
        double[] errors = [.. all.Select(j => j < 5 ? (j + 1) * 100 * R : 0)];
        var fit = AffineFit.Fit(Model(m, T), all, errors)!;
        Assert.Equal(m, fit.Inliers);
        var (delta0, delta1) = Perturbation(all, T);
        Assert.Equal(delta0, fit.Perturbation[0], delta0 * 1e-9);
        Assert.Equal(delta1, fit.Perturbation[1], delta1 * 1e-9);
    }

    [Fact]
    public void TheDiagnosisReadsEachCoefficientAsWhatAKernelGotWrong()
    {
        var model = Model(64, T);
        // Coefficients (1e-5, -4e-6) against bounds (1e-6, 2e-6): 10x and 2x; the intercept is the worst.
        var channel = new ChannelVerdict(0, [1e-5, -4e-6], [1e-6, 2e-6], 10);
        double ulpOf3 = MathF.BitIncrement(3f) - 3f;
        string mean = ReportFormat.Short(-2e-5);
        Assert.Equal($"systematic, y channel 0: equivalent to mean off by {mean} ({ReportFormat.Short(-2e-5 / ulpOf3)} ULP of the mean), istd off by -2E-06 relative; 10x its bound (coefficient of 1)",
            Diagnosis.Systematic(BatchNormOutput.Y, model, channel));
        // The slope the worst: named as such.
        var slope = new ChannelVerdict(0, [1e-7, -4e-5], [1e-6, 2e-6], 20);
        Assert.EndsWith("; 20x its bound (coefficient of t)", Diagnosis.Systematic(BatchNormOutput.Y, model, slope));
        // A reference of 0 has no ULP to count in: the ULP part is left out.
        var atZero = model with { Meanings = [model.Meanings[0] with { UlpOf = [0.0] }, model.Meanings[1]] };
        Assert.Contains("mean off by -2E-05 (", Diagnosis.Systematic(BatchNormOutput.Y, atZero, channel));
    }

    [Fact]
    public void AnOrthogonalBasisIsFittedExactly()
    {
        // t symmetric about 0: G is diagonal, and a pivot search that took the zero off-diagonal would find it singular.
        int m = 64;
        int[] all = [.. Enumerable.Range(0, m)];
        static double Symmetric(int j) => j - 31.5;
        var fit = AffineFit.Fit(Model(m, Symmetric), all, [.. all.Select(j => 1e-7 + (3e-9 * Symmetric(j)))])!;
        Assert.Equal(1e-7, fit.Coefficients[0], 1e-18);
        Assert.Equal(3e-9, fit.Coefficients[1], 1e-20);
    }

    [Theory]
    [InlineData(1e-7, 1e-6, 1e-6, 2e-6, "1", "t")] // ratios 0.1 and 0.5, both below 1: the larger names it
    [InlineData(1e-5, 1e-6, 1e-6, 1e-3, "t", "1")] // ratios 10 and 0.001, whose products would rank the other way
    [InlineData(2e-6, 4e-6, 1e-6, 2e-6, "t", "1")] // a tie at 2: the first keeps it
    public void TheDiagnosisNamesTheCoefficientFarthestOverItsBound(double c0, double c1, double b0, double b1, string not, string named)
    {
        var channel = new ChannelVerdict(0, [c0, c1], [b0, b1], Math.Max(c0 / b0, c1 / b1));
        string line = Diagnosis.Systematic(BatchNormOutput.Y, Model(64, T), channel);
        Assert.EndsWith($"(coefficient of {named})", line);
        Assert.DoesNotContain($"(coefficient of {not})", line);
    }

    [Fact]
    public void AnInfiniteReferenceHasNoUlpToCountIn()
    {
        var model = Model(64, T);
        var atInfinity = model with { Meanings = [model.Meanings[0] with { UlpOf = [double.PositiveInfinity] }, model.Meanings[1]] };
        var channel = new ChannelVerdict(0, [1e-5, -4e-6], [1e-6, 2e-6], 10);
        Assert.DoesNotContain("ULP", Diagnosis.Systematic(BatchNormOutput.Y, atInfinity, channel));
        Assert.Contains("ULP of the mean", Diagnosis.Systematic(BatchNormOutput.Y, model, channel));
    }
}
