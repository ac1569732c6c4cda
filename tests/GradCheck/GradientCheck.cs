using System.Globalization;
using MathNet.Numerics.Differentiation;

namespace BatchNorm.Tests.GradCheck;

/// <summary>The result of checking one gradient (dx, dgamma or dbeta) of a backward pass.</summary>
/// <param name="Output">"dx", "dgamma" or "dbeta".</param>
/// <param name="Entries">How many numeric-vs-analytic entries were compared.</param>
/// <param name="Failures">Entries whose discrepancy exceeds its tolerance.</param>
/// <param name="WorstRatio">The largest discrepancy / tolerance.</param>
/// <param name="Worst">Where that was, with both values and the tolerance.</param>
public sealed record GradCheckReport(string Output, int Entries, int Failures, double WorstRatio, string Worst)
{
    public bool Passed => Failures == 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Output}: {Failures} of {Entries} entries over tolerance; worst ratio {WorstRatio:G3} at {Worst}");
}

/// <summary>
/// Checks backward passes against central finite differences of the forward pass, in double.
/// Each derivative uses MathNet's 3-point central stencil at steps h and h/2, combined by one
/// Richardson step: D = (4 D(h/2) - D(h)) / 3, whose truncation error is O(h^4) and estimated
/// (conservatively, as D(h/2)'s) by T = |D(h/2) - D(h)| / 3. The rounding error of the stencils is
/// R = 3 df / h, where df bounds the error of each forward value (16 units of 2^-53 of the
/// magnitudes that make it up, the cancellation of x - mean included). An entry passes when
/// |analytic - numeric| &lt;= 2 (T + R) + 16 * 2^-53 |analytic|: the 2 allows for T and R being
/// estimates, not bounds.
/// </summary>
public static class GradientCheck
{
    private const double Eps = 1.0 / (1L << 53);
    private static readonly NumericalDerivative Central = new(3, 1);

    /// <summary>
    /// The full Jacobian: every output's derivative with respect to every input entry. Numeric
    /// columns from finite differences; analytic rows from the backward with dy = e_i.
    /// </summary>
    public static IReadOnlyList<GradCheckReport> FullJacobian(Problem p, BackwardPass backward)
    {
        int n = p.X.Length;
        var rows = new Gradients[n];
        for (int i = 0; i < n; i++)
        {
            double[] unit = new double[n];
            unit[i] = 1;
            rows[i] = backward(p, unit);
        }

        var (mean, invStd) = p.Statistics();
        double[] y0 = p.Forward(p.X, p.Gamma, p.Beta);
        double[] noise = ForwardNoise(p, y0, mean, invStd);
        var reports = new List<GradCheckReport>
        {
            Compare("dx", p, n, j => Column(p, y0, noise, Input.X, j, Step(p, Input.X, j, invStd)), (i, j) => rows[i].Dx[j]),
        };
        if (p.Gamma.Length > 0)
            reports.Add(Compare("dgamma", p, p.Shape.C, c => Column(p, y0, noise, Input.Gamma, c, Step(p, Input.Gamma, c, invStd)), (i, c) => rows[i].DGamma[c]));
        if (p.Beta.Length > 0)
            reports.Add(Compare("dbeta", p, p.Shape.C, c => Column(p, y0, noise, Input.Beta, c, Step(p, Input.Beta, c, invStd)), (i, c) => rows[i].DBeta[c]));
        return reports;
    }

    /// <summary>
    /// Random projections (PyTorch gradcheck's fast mode): v · (J u) by finite differences along u,
    /// against (J^T v) · u from the backward with dy = v, for unit random u (over x, gamma, beta) and v.
    /// </summary>
    public static GradCheckReport Projections(Problem p, BackwardPass backward, int seeds)
    {
        var (mean, invStd) = p.Statistics();
        double worst = 0;
        int failures = 0;
        string where = "";
        for (int seed = 0; seed < seeds; seed++)
        {
            var random = new Random(seed);
            double[] ux = Unit(p.X.Length, random), ug = p.Gamma.Length > 0 ? Unit(p.Shape.C, random) : [], ub = p.Beta.Length > 0 ? Unit(p.Shape.C, random) : [];
            double[] v = Unit(p.X.Length, random);
            var g = backward(p, v);
            double analytic = Dot(g.Dx, ux) + (ug.Length > 0 ? Dot(g.DGamma, ug) : 0) + (ub.Length > 0 ? Dot(g.DBeta, ub) : 0);

            // Step: a thousandth of the smallest spread, so no channel's normalization moves far.
            double h = 1e-3 * invStd.Min(s => 1 / s);
            double Along(double t) => Dot(v, p.Forward(Shift(p.X, ux, t), Shift(p.Gamma, ug, t), Shift(p.Beta, ub, t)));
            double[] y0 = p.Forward(p.X, p.Gamma, p.Beta);
            double noise = Dot(ForwardNoise(p, y0, mean, invStd), v.Select(Math.Abs).ToArray());
            var (numeric, truncation) = Richardson(Along(-h), Along(0), Along(h), Along(-h / 2), Along(h / 2), h);
            double tolerance = 2 * (truncation + 3 * noise / h) + 16 * Eps * Math.Abs(analytic);
            double ratio = Math.Abs(analytic - numeric) / tolerance;
            if (ratio > 1)
                failures++;
            if (ratio >= worst)
            {
                worst = ratio;
                where = string.Create(CultureInfo.InvariantCulture, $"seed {seed}: analytic {analytic:R}, numeric {numeric:R}, tolerance {tolerance:R}");
            }
        }

        return new GradCheckReport("v.(J u)", seeds, failures, worst, where);
    }

    /// <summary>D(h) and D(h/2) by MathNet's central stencil, extrapolated; the truncation estimate.</summary>
    public static (double Value, double Truncation) Richardson(double minusH, double center, double plusH, double minusHalf, double plusHalf, double h)
    {
        double coarse = Central.EvaluateDerivative([minusH, center, plusH], 1, h);
        double fine = Central.EvaluateDerivative([minusHalf, center, plusHalf], 1, h / 2);
        return ((4 * fine - coarse) / 3, Math.Abs(fine - coarse) / 3);
    }

    private enum Input
    {
        X,
        Gamma,
        Beta,
    }

    /// <summary>Column j of the Jacobian: per output, the numeric derivative and its tolerance's non-analytic part.</summary>
    private static (double Value, double Tolerance)[] Column(Problem p, double[] y0, double[] noise, Input input, int j, double h)
    {
        double[] Evaluate(double delta) => input switch
        {
            Input.X => p.Forward(Perturb(p.X, j, delta), p.Gamma, p.Beta),
            Input.Gamma => p.Forward(p.X, Perturb(p.Gamma, j, delta), p.Beta),
            Input.Beta => p.Forward(p.X, p.Gamma, Perturb(p.Beta, j, delta)),
            _ => throw new ArgumentOutOfRangeException(nameof(input), input, "not an input"),
        };
        double[] minusH = Evaluate(-h), plusH = Evaluate(h), minusHalf = Evaluate(-h / 2), plusHalf = Evaluate(h / 2);
        var column = new (double, double)[y0.Length];
        for (int i = 0; i < y0.Length; i++)
        {
            var (value, truncation) = Richardson(minusH[i], y0[i], plusH[i], minusHalf[i], plusHalf[i], h);
            column[i] = (value, 2 * (truncation + 3 * noise[i] / h));
        }

        return column;
    }

    private static GradCheckReport Compare(string output, Problem p, int inputs, Func<int, (double Value, double Tolerance)[]> column, Func<int, int, double> analytic)
    {
        int failures = 0, entries = 0;
        double worst = 0;
        string where = "";
        for (int j = 0; j < inputs; j++)
        {
            var numeric = column(j);
            for (int i = 0; i < numeric.Length; i++)
            {
                double a = analytic(i, j);
                double tolerance = numeric[i].Tolerance + 16 * Eps * Math.Abs(a);
                double discrepancy = Math.Abs(a - numeric[i].Value);
                double ratio = discrepancy == 0 ? 0 : discrepancy / tolerance;
                entries++;
                if (!(ratio <= 1))
                    failures++;
                if (!(ratio <= worst))
                {
                    worst = ratio;
                    var (n, c, s) = p.Shape.CoordinatesOf(i);
                    string wrt = output == "dx" ? Location(p, j) : $"(c={j})";
                    where = string.Create(CultureInfo.InvariantCulture,
                        $"d y(n={n}, c={c}, s={s}) / d {output[1..]}{wrt}: analytic {a:R}, numeric {numeric[i].Value:R}, tolerance {tolerance:R}");
                }
            }
        }

        return new GradCheckReport(output, entries, failures, worst, where);
    }

    /// <summary>The step for one input: a thousandth of the scale y varies on (the channel's std for x, |gamma| or 1 for the parameters).</summary>
    private static double Step(Problem p, Input input, int j, double[] invStd) => input switch
    {
        Input.X => 1e-3 / invStd[p.Shape.CoordinatesOf(j).C],
        Input.Gamma => 1e-3 * Math.Max(1, Math.Abs(p.Gamma[j])),
        Input.Beta => 1e-3 * Math.Max(1, Math.Abs(p.Beta[j])),
        _ => throw new ArgumentOutOfRangeException(nameof(input), input, "not an input"),
    };

    /// <summary>A bound on each forward value's rounding error: 16 units of 2^-53 of the magnitudes it is computed from.</summary>
    private static double[] ForwardNoise(Problem p, double[] y, double[] mean, double[] invStd)
    {
        double[] noise = new double[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int c = p.Shape.CoordinatesOf(i).C;
            double gamma = p.Gamma.Length > 0 ? Math.Abs(p.Gamma[c]) : 1, beta = p.Beta.Length > 0 ? Math.Abs(p.Beta[c]) : 0;
            noise[i] = 16 * Eps * (Math.Abs(y[i]) + gamma * invStd[c] * (Math.Abs(p.X[i]) + Math.Abs(mean[c])) + beta);
        }

        return noise;
    }

    private static string Location(Problem p, int j)
    {
        var (n, c, s) = p.Shape.CoordinatesOf(j);
        return $"(n={n}, c={c}, s={s})";
    }

    private static double[] Perturb(double[] values, int j, double delta)
    {
        double[] copy = (double[])values.Clone();
        copy[j] += delta;
        return copy;
    }

    private static double[] Shift(double[] values, double[] direction, double t) =>
        direction.Length == 0 ? values : values.Select((v, i) => v + t * direction[i]).ToArray();

    private static double[] Unit(int length, Random random)
    {
        double[] v = Enumerable.Range(0, length).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double norm = Math.Sqrt(Dot(v, v));
        return v.Select(e => e / norm).ToArray();
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }
}
