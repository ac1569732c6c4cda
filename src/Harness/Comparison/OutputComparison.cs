using System.Globalization;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison.ErrorModel;

namespace BatchNorm.Harness.Comparison;

/// <summary>One element that broke (or came closest to) its bound.</summary>
/// <param name="Index">Flat index in the output.</param>
/// <param name="Location">"(n, c, s)" for tensors, "(c)" for per-channel outputs.</param>
/// <param name="Expected">The reference value, in double.</param>
/// <param name="Actual">The kernel's value.</param>
/// <param name="AbsoluteError">|actual - expected|, infinity for a non-finite mismatch.</param>
/// <param name="Bound">The bound the element was held to: its error's, or under the structured model its residual's.</param>
/// <param name="Ulps">Distance from the expected value rounded to float.</param>
/// <param name="Residual">Under the structured model, the error left after the channel's systematic part; otherwise null.</param>
internal sealed record ElementError(long Index, string Location, double Expected, float Actual, double AbsoluteError, double Bound, long Ulps, double? Residual = null);

/// <summary>How one output of a kernel compares with the reference.</summary>
internal sealed record OutputComparison
{
    public required BatchNormOutput Output { get; init; }

    public required int Count { get; init; }

    public double MaxAbsoluteError { get; init; }

    /// <summary>Max |error| / |expected| over elements with a nonzero expected value.</summary>
    public double MaxRelativeError { get; init; }

    /// <summary>Max distance in float32 ULPs between actual and the expected value rounded to float.</summary>
    public long MaxUlps { get; init; }

    /// <summary>Max |error| / bound over every check of the output: 1 or below passes, above 1 fails (error/bound in every report). 0/0 counts as 0, x/0 as infinity.</summary>
    public double WorstRatio { get; init; }

    /// <summary>Structured model: the worst systematic coefficient's |value| / bound over the fitted channels; null for per-channel outputs.</summary>
    public double? SystematicRatio { get; init; }

    /// <summary>Structured model: the worst residual / residual bound (element-by-element channels included); null for per-channel outputs.</summary>
    public double? ResidualRatio { get; init; }

    /// <summary>Channels whose systematic error is over its bound.</summary>
    public IReadOnlyList<ChannelVerdict> SystematicFailures { get; init; } = [];

    /// <summary>Channels the fit could not separate, checked element by element with the combined bound instead.</summary>
    public int ElementwiseChannels { get; init; }

    /// <summary>One line per finding, worst first: systematic channels, the pattern of the bad elements, channels not fitted.</summary>
    public IReadOnlyList<string> Findings { get; init; } = [];

    /// <summary>The bug a detector read from this output's damage (its line is also the first finding), or null.</summary>
    public Detectors.BugFinding? Bug { get; init; }

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

    /// <summary>Every element counted by its error/bound and its magnitude (non-finite ones included), for the HTML report's plots.</summary>
    public ErrorHistogram Histogram { get; init; } = new();

    /// <summary>
    /// For a failing output, the indices of its damaged elements as the bug detectors see them (beyond the element's
    /// combined bound before any fit, or non-finite where the reference is not), ascending; empty otherwise.
    /// </summary>
    public IReadOnlyList<int> Damaged { get; init; } = [];

    public bool Passed => OverBound == 0 && SystematicFailures.Count == 0;

    /// <summary>
    /// Compares actual with expected. Where the expected value, rounded to float, is NaN or
    /// infinite, the actual value must be the same (NaN for NaN, the same infinity, or NaN where
    /// <see cref="ExpectedOutput.InfinityMayBeNaN"/>); otherwise it
    /// must be finite. Finite elements are then held to the structured model when the output has
    /// one (each channel's systematic part and each element's residual within their bounds), or to
    /// their own bound.
    /// </summary>
    public static OutputComparison Compare(ExpectedOutput expected, float[] actual, in TensorShape shape)
    {
        var s = shape;
        Func<long, string> locate = expected.Name.IsElementwise()
            ? i => { var (n, c, sp) = s.CoordinatesOf(i); return string.Create(CultureInfo.InvariantCulture, $"(n={n}, c={c}, s={sp})"); }
        : i => string.Create(CultureInfo.InvariantCulture, $"(c={i})");
        var tally = new Tally(actual.Length);
        var finite = new bool[actual.Length];
        double[] error = new double[actual.Length];
        for (int i = 0; i < actual.Length; i++)
        {
            float a = actual[i];
            double e = expected.Values[i];
            float ef = (float)e;
            if (e == 0)
                tally.Zeros++;
            if (double.IsFinite(e))
                tally.Scale = Math.Max(tally.Scale, Math.Abs(e));
            if (!float.IsFinite(ef) || !float.IsFinite(a))
            {
                bool same = float.IsNaN(ef) ? float.IsNaN(a) : a == ef || (expected.InfinityMayBeNaN && float.IsInfinity(ef) && float.IsNaN(a));
                // The error array holds, for a non-finite element, only whether it mismatched (its histogram bin).
                error[i] = same ? 0 : double.PositiveInfinity;
                if (!same)
                {
                    tally.NonFinite++;
                    tally.Fail(new ElementError(i, locate(i), e, a, double.PositiveInfinity, expected.Bounds[i], long.MaxValue));
                }

                continue;
            }

            finite[i] = true;
            error[i] = a - e;
            tally.MaxAbs = Math.Max(tally.MaxAbs, Math.Abs(error[i]));
            if (e != 0)
                tally.MaxRel = Math.Max(tally.MaxRel, Math.Abs(error[i]) / Math.Abs(e));
            tally.MaxUlps = Math.Max(tally.MaxUlps, Ulp.Distance(a, ef));
        }

        for (int i = 0; i < actual.Length; i++)
        {
            if (!finite[i])
                tally.Histogram.Add(error[i], expected.Values[i], tally.Scale);
        }

        void Element(int i, double bound, double? residual)
        {
            double err = Math.Abs(residual ?? error[i]);
            // A NaN bound comes only from a channel already non-finite; fail closed. Bounds are never negative, and a zero
            // one arrives as +0 (each is a sum, and -0 + 0 is +0), so an error over it is +inf.
            double b = double.IsNaN(bound) ? 0 : bound;
            double ratio = err == 0 ? 0 : err / b;
            tally.Histogram.Add(ratio, expected.Values[i], tally.Scale);
            // Most elements are neither a failure nor the new worst: build a report line only for those that are.
            if (tally.Matters(ratio, error[i]))
                tally.Observe(new ElementError(i, locate(i), expected.Values[i], actual[i], Math.Abs(error[i]), b, Ulp.Distance(actual[i], (float)expected.Values[i]), residual), ratio);
        }

        if (expected.Model is not { } model)
        {
            for (int i = 0; i < actual.Length; i++)
            {
                if (finite[i])
                    Element(i, expected.Bounds[i] + (DataPrecisions.WidestGap(actual[i], expected.Precision) / 2), null);
            }

            return tally.Result(expected.Name, [], null, null, 0, []);
        }

        var failures = new List<ChannelVerdict>();
        double systematicRatio = 0;
        var channels = Structured(model, s, finite, error, Element);
        foreach (var channel in channels.Fitted)
        {
            systematicRatio = Math.Max(systematicRatio, channel.Ratio);
            if (channel.Ratio > 1)
                failures.Add(channel);
        }

        int elementwiseChannels = channels.Elementwise;
        var findings = new List<string>();
        foreach (var channel in failures.OrderByDescending(f => f.Ratio).Take(5))
            findings.Add(Diagnosis.Systematic(expected.Name, model, channel));
        if (failures.Count > 5)
            findings.Add(string.Create(CultureInfo.InvariantCulture, $"systematic: {failures.Count - 5} more channels over their bound"));
        if (tally.FailedIndices.Count > 0)
            findings.Add($"element-wise: {DamagePattern.Describe(s, tally.FailedIndices)}");
        if (elementwiseChannels > 0)
        {
            findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{elementwiseChannels} channel(s) checked element by element: too few elements ({s.M}, fewer than {AffineErrorModel.ElementsPerBasisFunction} for each of {model.BasisSize} basis functions) or a degenerate basis ({string.Join(", ", model.BasisNames)}) to separate the systematic part"));
        }

        return tally.Result(expected.Name, failures, systematicRatio, tally.WorstRatio, elementwiseChannels, findings);
    }

    /// <summary>
    /// The bound each element of an element-wise output is held to against these actual values:
    /// R_i + Σ_k |b_ik| Δ_k in a fitted channel, the combined bound in a channel checked element by
    /// element, NaN where a value is not finite. For tests and tools that place a change of known size.
    /// </summary>
    public static double[] ElementBounds(ExpectedOutput expected, float[] actual, in TensorShape shape)
    {
        var model = expected.Model ?? throw new ArgumentException($"{expected.Name.Name()} has no structured model; its bounds are {nameof(ExpectedOutput.Bounds)}.", nameof(expected));
        bool[] finite = new bool[actual.Length];
        double[] error = new double[actual.Length], bounds = new double[actual.Length];
        for (int i = 0; i < actual.Length; i++)
        {
            finite[i] = float.IsFinite(actual[i]) && float.IsFinite((float)expected.Values[i]);
            error[i] = finite[i] ? actual[i] - expected.Values[i] : 0;
            bounds[i] = double.NaN;
        }

        Structured(model, shape, finite, error, (i, bound, _) => bounds[i] = bound);
        return bounds;
    }

    /// <summary>
    /// Fits every channel and reports each finite element's bound and residual (null when its
    /// channel is checked element by element, or the element is one the model leaves unfitted) to
    /// <paramref name="element"/>.
    /// </summary>
    private static (List<ChannelVerdict> Fitted, int Elementwise) Structured(AffineErrorModel model, in TensorShape shape, bool[] finite, double[] error, Action<int, double, double?> element)
    {
        var fitted = new List<ChannelVerdict>();
        int elementwise = 0;
        for (int c = 0; c < shape.C; c++)
        {
            var indices = new List<int>();
            foreach (int i in shape.ChannelOffsets(c))
            {
                if (!finite[i])
                    continue;
                if (model.Unfitted?[i] == true)
                    element(i, model.CombinedBound(c, i), null);
                else
                    indices.Add(i);
            }

            // A channel whose bounds are all 0 is a claim of exactness: nothing to separate.
            bool exact = indices.All(i => model.ResidualBounds[i] == 0);
            // A channel with no finite element counts as exact (All over nothing is true), so a fitted channel has elements.
            var fit = exact ? null : AffineFit.Fit(model, indices, indices.Select(i => error[i]).ToArray());
            if (fit is null)
            {
                if (!exact)
                    elementwise++;
                foreach (int i in indices)
                    element(i, model.CombinedBound(c, i), null);
                continue;
            }

            double[] bounds = new double[model.BasisSize];
            double ratio = 0;
            for (int k = 0; k < model.BasisSize; k++)
            {
                bounds[k] = model.CoefficientBounds[c][k] + fit.Perturbation[k];
                double coefficient = Math.Abs(fit.Coefficients[k]);
                // bounds[k] > 0: it includes the fit's perturbation Δ_k, positive wherever G could be inverted.
                ratio = Math.Max(ratio, coefficient / bounds[k]);
            }

            fitted.Add(new ChannelVerdict(c, fit.Coefficients, bounds, ratio));
            foreach (int i in indices)
            {
                double residual = error[i], spread = 0;
                for (int k = 0; k < model.BasisSize; k++)
                {
                    residual -= fit.Coefficients[k] * model.Basis[k][i];
                    spread += Math.Abs(model.Basis[k][i]) * fit.Perturbation[k];
                }

                element(i, model.ResidualBounds[i] + spread, residual);
            }
        }

        return (fitted, elementwise);
    }

    /// <summary>The running figures of one comparison.</summary>
    private sealed class Tally(int count)
    {
        private readonly List<ElementError> failures = [];
        private ElementError? worst;

        public double MaxAbs { get; set; }

        public double MaxRel { get; set; }

        public long MaxUlps { get; set; }

        public double Scale { get; set; }

        public int Zeros { get; set; }

        public int NonFinite { get; set; }

        public ErrorHistogram Histogram { get; } = new();

        public int Over { get; private set; }

        public double WorstRatio { get; private set; }

        /// <summary>Every failing element's index (for the pattern), non-finite mismatches included.</summary>
        public List<int> FailedIndices { get; } = [];

        /// <summary>True when an element of this ratio and error fails or becomes the worst, so it needs an <see cref="ElementError"/>.</summary>
        // Stryker disable once Equality : equivalent, an element at exactly 1 is built and then neither fails nor, unless BecomesWorst, is kept.
        public bool Matters(double ratio, double error) => ratio > 1 || BecomesWorst(ratio, error);

        /// <summary>A larger ratio than any so far, or the first element with an error at all when every ratio so far is 0 (a bound of infinity).</summary>
        private bool BecomesWorst(double ratio, double error) => ratio > WorstRatio || (worst is null && ratio == WorstRatio && error != 0);

        public void Observe(ElementError element, double ratio)
        {
            if (ratio > 1)
                Fail(element);
            if (BecomesWorst(ratio, element.AbsoluteError))
            {
                WorstRatio = ratio;
                worst = element;
            }
        }

        public void Fail(ElementError element)
        {
            Over++;
            FailedIndices.Add((int)element.Index);
            // Keep the ten worst failures without holding every failing element.
            failures.Add(element);
            // Stryker disable once Equality,Boolean : equivalent, the ten worst kept at any count are the ten worst; the limit bounds memory only.
            if (failures.Count > 64)
            {
                var keep = Worst10();
                failures.Clear();
                failures.AddRange(keep);
            }
        }

        private List<ElementError> Worst10() =>
            failures.OrderByDescending(f => Math.Abs(f.Residual ?? f.AbsoluteError) / Math.Max(f.Bound, double.Epsilon)).Take(10).ToList();

        public OutputComparison Result(BatchNormOutput output, IReadOnlyList<ChannelVerdict> systematic, double? systematicRatio, double? residualRatio,
            int elementwiseChannels, IReadOnlyList<string> findings)
        {
            double worstRatio = Math.Max(WorstRatio, systematicRatio ?? 0);
            double maxAbs = MaxAbs, maxRel = MaxRel;
            long maxUlps = MaxUlps;
            if (NonFinite > 0)
            {
                // A NaN or infinity where a finite value belongs is an unbounded error.
                worstRatio = double.PositiveInfinity;
                maxAbs = maxRel = double.PositiveInfinity;
                maxUlps = long.MaxValue;
                residualRatio = residualRatio is null ? null : double.PositiveInfinity;
            }

            return new OutputComparison
            {
                Output = output,
                Count = count,
                MaxAbsoluteError = maxAbs,
                MaxRelativeError = maxRel,
                MaxUlps = maxUlps,
                WorstRatio = worstRatio,
                SystematicRatio = systematicRatio,
                ResidualRatio = residualRatio,
                SystematicFailures = systematic,
                ElementwiseChannels = elementwiseChannels,
                Findings = findings,
                Worst = worst ?? failures.FirstOrDefault(),
                OverBound = Over,
                NonFiniteMismatches = NonFinite,
                ExpectedZeros = Zeros,
                MaxExpectedMagnitude = Scale,
                FirstFailures = Worst10(),
                Histogram = Histogram,
            };
        }
    }
}
