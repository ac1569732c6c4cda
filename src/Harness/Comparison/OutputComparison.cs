namespace BatchNorm.Harness.Comparison;

/// <summary>One element that broke (or came closest to) its bound.</summary>
/// <param name="Index">Flat index in the output.</param>
/// <param name="Location">"(n, c, s)" for tensors, "(c)" for per-channel outputs.</param>
/// <param name="Expected">The reference value, in double.</param>
/// <param name="Actual">The kernel's value.</param>
/// <param name="AbsoluteError">|actual - expected|, infinity for a non-finite mismatch.</param>
/// <param name="Bound">The tolerance model's bound for this element.</param>
/// <param name="Ulps">Distance from the expected value rounded to float.</param>
public sealed record ElementError(long Index, string Location, double Expected, float Actual, double AbsoluteError, double Bound, long Ulps);

/// <summary>How one output of a kernel compares with the reference.</summary>
public sealed record OutputComparison
{
    public required string Output { get; init; }

    public required int Count { get; init; }

    public double MaxAbsoluteError { get; init; }

    /// <summary>Max |error| / |expected| over elements with a nonzero expected value.</summary>
    public double MaxRelativeError { get; init; }

    /// <summary>Max distance in float32 ULPs between actual and the expected value rounded to float.</summary>
    public long MaxUlps { get; init; }

    /// <summary>Max |error| / bound: below 1 passes; the headroom the data left. 0/0 counts as 0, x/0 as infinity.</summary>
    public double WorstRatio { get; init; }

    /// <summary>The element with the largest ratio, or null when every error is 0.</summary>
    public ElementError? Worst { get; init; }

    /// <summary>Elements over their bound (non-finite mismatches included).</summary>
    public int OverBound { get; init; }

    /// <summary>Elements where one side is NaN or infinite and the other is not the same.</summary>
    public int NonFiniteMismatches { get; init; }

    /// <summary>The largest finite |expected| value: the output's scale.</summary>
    public double MaxExpectedMagnitude { get; init; }

    /// <summary>Elements whose expected value is exactly 0.</summary>
    public int ExpectedZeros { get; init; }

    /// <summary>Up to ten failing elements, worst first.</summary>
    public IReadOnlyList<ElementError> FirstFailures { get; init; } = [];

    public bool Passed => OverBound == 0;

    /// <summary>
    /// Compares actual with expected element by element. Where the expected value, rounded to
    /// float, is NaN or infinite, the actual value must be the same (NaN for NaN, the same
    /// infinity); otherwise it must be finite and within its bound.
    /// </summary>
    public static OutputComparison Compare(string output, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, ReadOnlySpan<double> bound, Func<long, string> locate)
    {
        double maxAbs = 0, maxRel = 0, worstRatio = 0, scale = 0;
        long maxUlps = 0;
        int over = 0, nonFinite = 0, zeros = 0;
        ElementError? worst = null;
        var failures = new List<ElementError>();
        for (int i = 0; i < actual.Length; i++)
        {
            float a = actual[i];
            double e = expected[i];
            float ef = (float)e;
            if (e == 0)
                zeros++;
            if (double.IsFinite(e))
                scale = Math.Max(scale, Math.Abs(e));
            if (!float.IsFinite(ef) || !float.IsFinite(a))
            {
                bool same = float.IsNaN(ef) ? float.IsNaN(a) : a == ef;
                if (!same)
                {
                    nonFinite++;
                    over++;
                    Record(new ElementError(i, locate(i), e, a, double.PositiveInfinity, bound[i], long.MaxValue));
                }

                continue;
            }

            double error = Math.Abs(a - e);
            // A NaN bound comes only from a channel already non-finite; fail closed.
            double b = double.IsNaN(bound[i]) ? 0 : bound[i];
            double ratio = error == 0 ? 0 : b == 0 ? double.PositiveInfinity : error / b;
            long ulps = Ulp.Distance(a, ef);
            maxAbs = Math.Max(maxAbs, error);
            if (e != 0)
                maxRel = Math.Max(maxRel, error / Math.Abs(e));
            maxUlps = Math.Max(maxUlps, ulps);
            var element = new ElementError(i, locate(i), e, a, error, b, ulps);
            if (ratio > 1)
            {
                over++;
                Record(element);
            }

            if (ratio > worstRatio || (worst is null && ratio == worstRatio && error > 0))
            {
                worstRatio = ratio;
                worst = element;
            }
        }

        if (nonFinite > 0)
        {
            // A NaN or infinity where a finite value belongs is an unbounded error.
            worstRatio = double.PositiveInfinity;
            maxAbs = maxRel = double.PositiveInfinity;
            maxUlps = long.MaxValue;
        }
        return new OutputComparison
        {
            Output = output,
            Count = actual.Length,
            MaxAbsoluteError = maxAbs,
            MaxRelativeError = maxRel,
            MaxUlps = maxUlps,
            WorstRatio = worstRatio,
            Worst = worst ?? failures.FirstOrDefault(),
            OverBound = over,
            NonFiniteMismatches = nonFinite,
            ExpectedZeros = zeros,
            MaxExpectedMagnitude = scale,
            FirstFailures = failures.OrderByDescending(f => f.AbsoluteError / Math.Max(f.Bound, double.Epsilon)).Take(10).ToArray(),
        };

        void Record(ElementError element)
        {
            // Keep the ten worst failures without holding every failing element.
            failures.Add(element);
            if (failures.Count > 64)
            {
                var keep = failures.OrderByDescending(f => f.AbsoluteError / Math.Max(f.Bound, double.Epsilon)).Take(10).ToList();
                failures.Clear();
                failures.AddRange(keep);
            }
        }
    }
}
