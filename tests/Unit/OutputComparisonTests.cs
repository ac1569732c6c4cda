using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Comparison.ErrorModel;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The comparison of one output on values placed by hand: the non-finite rules, the figures every report prints (max
/// abs, max rel, ULPs, zeros, scale), where a bound is met and where it is broken, the worst element and the ten worst
/// failures, and the structured model's findings. Each expectation is computed here from the inputs, not by the code.
/// </summary>
public class OutputComparisonTests
{
    /// <summary>dbeta (per channel, no model) of the given expected values and bounds.</summary>
    private static OutputComparison PerChannel(double[] expected, double[] bounds, float[] actual, bool infinityMayBeNaN = false) =>
        OutputComparison.Compare(new ExpectedOutput(BatchNormOutput.DBeta, expected, bounds, InfinityMayBeNaN: infinityMayBeNaN), actual,
            new TensorShape(1, expected.Length, 1, Layout.ChannelsFirst));

    [Theory]
    [InlineData(double.NaN, float.NaN, true)]
    [InlineData(double.PositiveInfinity, float.PositiveInfinity, true)]
    [InlineData(double.NegativeInfinity, float.NegativeInfinity, true)]
    [InlineData(1e39, float.PositiveInfinity, true)] // 1e39 rounds to +inf in float: the kernel's inf is that value.
    [InlineData(double.NaN, 1f, false)]
    [InlineData(double.PositiveInfinity, float.NegativeInfinity, false)]
    [InlineData(double.PositiveInfinity, float.MaxValue, false)]
    [InlineData(double.PositiveInfinity, float.NaN, false)]
    [InlineData(1.0, float.NaN, false)]
    [InlineData(1.0, float.PositiveInfinity, false)]
    public void ANonFiniteValueMustBeMatchedExactly(double expected, float actual, bool passes)
    {
        var result = PerChannel([expected, 2], [0, 0], [actual, 2f]);
        Assert.Equal(passes, result.Passed);
        Assert.Equal(passes ? 0 : 1, result.NonFiniteMismatches);
        Assert.Equal(passes ? 0 : 1, result.OverBound);
        if (passes)
        {
            Assert.Equal(0, result.WorstRatio);
            Assert.Equal(0, result.MaxAbsoluteError);
            Assert.Equal(0, result.MaxUlps);
            Assert.Null(result.Worst);
            return;
        }

        // An unbounded error: every figure says so, and the element is the one failure listed.
        Assert.Equal(double.PositiveInfinity, result.WorstRatio);
        Assert.Equal(double.PositiveInfinity, result.MaxAbsoluteError);
        Assert.Equal(double.PositiveInfinity, result.MaxRelativeError);
        Assert.Equal(long.MaxValue, result.MaxUlps);
        var failure = Assert.Single(result.FirstFailures);
        Assert.Equal(0, failure.Index);
        Assert.Equal("(c=0)", failure.Location);
        Assert.Equal(failure, result.Worst);
    }

    [Fact]
    public void AnInfinityMayBeNaNOnlyWhereTheContractSaysSo()
    {
        Assert.True(PerChannel([double.PositiveInfinity], [0], [float.NaN], infinityMayBeNaN: true).Passed);
        Assert.True(PerChannel([double.NegativeInfinity], [0], [float.NaN], infinityMayBeNaN: true).Passed);
        Assert.False(PerChannel([double.NaN], [0], [1f], infinityMayBeNaN: true).Passed);
        Assert.False(PerChannel([1.0], [0], [float.NaN], infinityMayBeNaN: true).Passed);
    }

    [Fact]
    public void TheFiguresAreTheLargestOverTheFiniteElements()
    {
        // Errors 0.5 at 4 (relative 0.125), 0.25 at -1 (relative 0.25), 0 at 0, 0.125 at 1000, and a NaN matched by NaN.
        double[] expected = [4, -1, 0, double.NaN, 1000];
        float[] actual = [4.5f, -1.25f, 0f, float.NaN, 1000.125f];
        var result = PerChannel(expected, [1, 1, 1, 0, 1], actual);
        Assert.True(result.Passed);
        Assert.Equal(0.5, result.MaxAbsoluteError);
        Assert.Equal(0.25, result.MaxRelativeError); // 0.25 / 1 at -1; the zero expected value is left out
        Assert.Equal(1L << 21, result.MaxUlps); // 0.25 at -1 is 2^21 gaps of 2^-23; 0.5 at 4 only 2^20 of 2^-21
        Assert.Equal(1, result.ExpectedZeros);
        Assert.Equal(1000, result.MaxExpectedMagnitude);
        Assert.Equal(5, result.Count);
        Assert.Equal(0.5, result.WorstRatio);
        Assert.Equal(0, result.Worst!.Index);
        Assert.Equal(4.5f, result.Worst.Actual);
        Assert.Equal(4, result.Worst.Expected);
        Assert.Equal(0.5, result.Worst.AbsoluteError);
        Assert.Equal(1, result.Worst.Bound);
    }

    [Fact]
    public void AnErrorAtItsBoundPassesAndOneUlpMoreFails()
    {
        Assert.True(PerChannel([1], [0.25], [1.25f]).Passed);
        Assert.Equal(1, PerChannel([1], [0.25], [1.25f]).WorstRatio);
        var over = PerChannel([1], [0.25], [MathF.BitIncrement(1.25f)]);
        Assert.False(over.Passed);
        Assert.Equal(1, over.OverBound);
        Assert.True(over.WorstRatio > 1);
    }

    [Fact]
    public void AZeroBoundIsAClaimOfExactness()
    {
        var exact = PerChannel([3], [0], [3f]);
        Assert.True(exact.Passed);
        Assert.Equal(0, exact.WorstRatio);
        Assert.Equal(1, exact.Histogram.ByRatio()[0]);
        var off = PerChannel([3], [0], [MathF.BitIncrement(3f)]);
        Assert.False(off.Passed);
        Assert.Equal(double.PositiveInfinity, off.WorstRatio);
        Assert.Equal(1, off.Worst!.Ulps);
    }

    [Fact]
    public void ANaNBoundFailsClosed()
    {
        Assert.False(PerChannel([3], [double.NaN], [3.5f]).Passed);
        Assert.True(PerChannel([3], [double.NaN], [3f]).Passed);
    }

    [Fact]
    public void TheTenWorstFailuresAreListedWorstFirstAmongAHundred()
    {
        // 100 failing channels, channel i off by i + 2 against a bound of 1: the worst are 99 down to 90.
        int n = 100;
        double[] expected = new double[n], bounds = Enumerable.Repeat(1.0, n).ToArray();
        float[] actual = Enumerable.Range(0, n).Select(i => (float)(i + 2)).ToArray();
        var result = PerChannel(expected, bounds, actual);
        Assert.Equal(n, result.OverBound);
        Assert.Equal(Enumerable.Range(90, 10).Reverse().Select(i => (long)i), result.FirstFailures.Select(f => f.Index));
        Assert.Equal(99, result.Worst!.Index);
        Assert.Equal(101, result.WorstRatio);
    }

    [Fact]
    public void AReducedPrecisionOutputIsHeldToItsBoundPlusHalfTheFormatsGap()
    {
        // bfloat16 at 1: gap 2^-7; bound 0 plus half a gap admits 2^-8 and not more.
        var shape = new TensorShape(1, 1, 1, Layout.ChannelsFirst);
        var expected = new ExpectedOutput(BatchNormOutput.Dx, [1.0], [0.0], Precision: DataPrecision.BFloat16);
        Assert.True(OutputComparison.Compare(expected, [1f + (1f / 256)], shape).Passed);
        Assert.False(OutputComparison.Compare(expected, [MathF.BitIncrement(1f + (1f / 256))], shape).Passed);
        Assert.False(OutputComparison.Compare(expected with { Precision = DataPrecision.Float32 }, [1f + (1f / 256)], shape).Passed);
    }

    [Fact]
    public void AnElementwiseLocationNamesSampleChannelAndPosition()
    {
        var shape = new TensorShape(2, 3, 4, Layout.ChannelsLast);
        int n = shape.ElementCount;
        var expected = new ExpectedOutput(BatchNormOutput.Dx, new double[n], new double[n]);
        float[] actual = new float[n];
        actual[n - 1] = 1;
        var failure = Assert.Single(OutputComparison.Compare(expected, actual, shape).FirstFailures);
        Assert.Equal("(n=1, c=2, s=3)", failure.Location);
    }

    /// <summary>The expected values as a kernel that got them exactly would store them (they are floats already).</summary>
    private static float[] Exactly(ExpectedOutput expected) => [.. expected.Values.Select(v => (float)v)];

    /// <summary>A y-like model of the given channels and elements a channel: basis (1, xhat), residual bound 1e-7, coefficient bounds 1e-6.</summary>
    private static ExpectedOutput Modelled(int channels, int perChannel)
    {
        var shape = new TensorShape(1, channels, perChannel, Layout.ChannelsFirst);
        int n = shape.ElementCount;
        double[] one = Enumerable.Repeat(1.0, n).ToArray();
        double[] xhat = Enumerable.Range(0, n).Select(i => ((i % perChannel) - (perChannel / 2.0)) / perChannel).ToArray();
        var model = new AffineErrorModel
        {
            BasisNames = ["1", "xhat"],
            Basis = [one, xhat],
            CoefficientBounds = [.. Enumerable.Range(0, channels).Select(_ => new[] { 1e-6, 1e-6 })],
            ResidualBounds = Enumerable.Repeat(1e-7, n).ToArray(),
            Meanings =
            [
                new CoefficientMeaning("mean off by", Enumerable.Repeat(-1.0, channels).ToArray(), null, Relative: false),
                new CoefficientMeaning("istd off by", Enumerable.Repeat(1.0, channels).ToArray(), null, Relative: true),
            ],
        };
        double[] values = xhat.Select(v => (double)(float)(v + 1)).ToArray();
        return new ExpectedOutput(BatchNormOutput.Y, values, [.. Enumerable.Range(0, n).Select(i => model.CombinedBound(i / perChannel, i))], model);
    }

    [Fact]
    public void SevenSystematicChannelsAreFiveLinesWorstFirstAndACount()
    {
        var expected = Modelled(8, 64);
        // Channel c (1 to 7) shifted by c·1e-5: 10c times its intercept's bound; channel 0 exact.
        float[] actual = expected.Values.Select((v, i) => (float)(v + ((i / 64) * 1e-5))).ToArray();
        var result = OutputComparison.Compare(expected, actual, new TensorShape(1, 8, 64, Layout.ChannelsFirst));
        Assert.False(result.Passed);
        Assert.Equal(7, result.SystematicFailures.Count);
        Assert.Equal(0, result.OverBound);
        Assert.Equal(6, result.Findings.Count);
        Assert.Equal([7, 6, 5, 4, 3], result.Findings.Take(5).Select(f => int.Parse(f.Split("channel ")[1].Split(':')[0], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(result.Findings.Take(5), f => Assert.StartsWith("systematic, y channel ", f));
        Assert.Equal("systematic: 2 more channels over their bound", result.Findings[5]);
        Assert.True(result.SystematicRatio > 60 && result.SystematicRatio < 80, $"{result.SystematicRatio}");
        Assert.Equal(result.SystematicRatio, result.WorstRatio);
    }

    [Fact]
    public void TooFewElementsAChannelAreCheckedElementByElementAndSaySo()
    {
        var expected = Modelled(3, 7);
        float[] actual = Exactly(expected);
        var result = OutputComparison.Compare(expected, actual, new TensorShape(1, 3, 7, Layout.ChannelsFirst));
        Assert.True(result.Passed);
        Assert.Equal(3, result.ElementwiseChannels);
        Assert.Equal("3 channel(s) checked element by element: too few elements (7, fewer than 4 for each of 2 basis functions) or a degenerate basis (1, xhat) to separate the systematic part",
            Assert.Single(result.Findings));
    }

    [Theory]
    [InlineData(0f, -0f, 0L)]
    [InlineData(1f, 1.0000001f, 1L)]
    [InlineData(float.Epsilon, -float.Epsilon, 2L)]
    [InlineData(float.MaxValue, float.PositiveInfinity, 1L)]
    [InlineData(-1f, 1f, 2L * 0x3F80_0000)]
    [InlineData(2f, 1f, 1L << 23)]
    [InlineData(float.NaN, 1f, long.MaxValue)]
    [InlineData(1f, float.NaN, long.MaxValue)]
    public void UlpDistanceCountsTheFloatsBetween(float a, float b, long distance)
    {
        Assert.Equal(distance, Ulp.Distance(a, b));
        Assert.Equal(distance, Ulp.Distance(b, a));
    }

    [Fact]
    public void EveryElementIsCountedInTheHistogramByItsRatioAndMagnitude()
    {
        // Exact at 100 (the scale), 0.5 of its bound at 10, 5 times it at 1, a NaN matched, a NaN where 1 belongs.
        var result = PerChannel([100, 10, 1, double.NaN, 1], [1, 2, 0.2, 0, 0], [100f, 11f, 2f, float.NaN, float.NaN]);
        var h = result.Histogram;
        Assert.Equal(5, h.Total);
        Assert.Equal(1, h[1, 0]); // 100: magnitude 0.1-1 of the scale, no error
        Assert.Equal(1, h[1, 7]); // 10: 0.1 of the scale, ratio in [0.1, 1]
        Assert.Equal(1, h[2, ErrorHistogram.FirstFailingRatioBin]); // 1: 1e-2 of the scale, ratio 5
        Assert.Equal(1, h[ErrorHistogram.MagnitudeLabels.Length - 1, 0]); // NaN for NaN: not finite, no error
        Assert.Equal(1, h[2, ErrorHistogram.FirstFailingRatioBin + 1]); // NaN where 1 belongs: an unbounded error
    }

    [Fact]
    public void TheTenWorstAreKeptWhateverOrderTheFailuresComeIn()
    {
        // 100 failures, worst first, each with its own bound: element i off by 1 against a bound of 1/(100 - i)... so
        // element 0 is the worst (ratio 100) and the ratios fall; the order is by ratio, not by error.
        int n = 100;
        double[] expected = new double[n];
        double[] bounds = Enumerable.Range(0, n).Select(i => (i + 1) / 1000.0).ToArray();
        float[] actual = Enumerable.Range(0, n).Select(i => 1f + (i / 1000f)).ToArray();
        var result = PerChannel(expected, bounds, actual);
        Assert.Equal(n, result.OverBound);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), result.FirstFailures.Select(f => f.Index));
        Assert.Equal(0, result.Worst!.Index);
        Assert.Equal(1000, result.WorstRatio, 9);
    }

    [Fact]
    public void TheWorstElementIsTheFirstOfTheLargestRatio()
    {
        // Two elements at the same ratio 0.5 and one exact: the first of the two is the worst, and its figures are kept.
        var result = PerChannel([0, 1, 2], [1, 1, 2], [0f, 1.5f, 3f]);
        Assert.Equal(1, result.Worst!.Index);
        Assert.Equal(0.5, result.WorstRatio);
        // Every error 0: no worst element at all, and a ratio of 0.
        var exact = PerChannel([0, 1], [1, 0], [0f, 1f]);
        Assert.Null(exact.Worst);
        Assert.Equal(0, exact.WorstRatio);
        Assert.Empty(exact.FirstFailures);
    }

    [Fact]
    public void ANonFiniteMismatchMakesTheResidualRatioInfiniteWhereThereIsOne()
    {
        var expected = Modelled(2, 64);
        float[] actual = Exactly(expected);
        actual[5] = float.NaN;
        var result = OutputComparison.Compare(expected, actual, new TensorShape(1, 2, 64, Layout.ChannelsFirst));
        Assert.Equal(double.PositiveInfinity, result.ResidualRatio);
        Assert.Equal(1, result.NonFiniteMismatches);
        Assert.Null(PerChannel([1], [0], [float.NaN]).ResidualRatio);
    }

    [Fact]
    public void AChannelWithoutErrorFitsToZero()
    {
        var expected = Modelled(1, 64);
        var shape = new TensorShape(1, 1, 64, Layout.ChannelsFirst);
        var fitted = OutputComparison.Compare(expected, Exactly(expected), shape);
        Assert.Equal(0, fitted.SystematicRatio);
        Assert.True(fitted.Passed);
    }

    [Fact]
    public void AnExactChannelAndAnEmptyOneAreNotCountedAsCheckedElementByElement()
    {
        var shape = new TensorShape(1, 2, 64, Layout.ChannelsFirst);
        var expected = Modelled(2, 64);
        var model = expected.Model! with { ResidualBounds = new double[shape.ElementCount], CoefficientBounds = [[0, 0], [0, 0]] };
        float[] actual = Exactly(expected);
        var exactValues = expected with { Model = model, Bounds = new double[shape.ElementCount] };
        var exact = OutputComparison.Compare(exactValues, actual, shape);
        Assert.True(exact.Passed);
        Assert.Equal(0, exact.ElementwiseChannels);
        Assert.Empty(exact.Findings);
        actual[3] = MathF.BitIncrement(actual[3]);
        var off = OutputComparison.Compare(exactValues, actual, shape);
        Assert.Equal(1, off.OverBound);
        Assert.Equal(3, off.FirstFailures.Single().Index);

        // Channel 1 all NaN where NaN belongs: nothing finite to fit, and not a channel checked element by element.
        double[] values = [.. expected.Values];
        float[] withNaN = [.. actual];
        withNaN[3] = actual[3] = (float)values[3];
        for (int i = 64; i < 128; i++)
        {
            values[i] = double.NaN;
            withNaN[i] = float.NaN;
        }

        var nan = OutputComparison.Compare(expected with { Values = values }, withNaN, shape);
        Assert.True(nan.Passed);
        Assert.Equal(0, nan.ElementwiseChannels);
    }

    [Fact]
    public void AnElementTheModelLeavesUnfittedIsHeldToItsCombinedBound()
    {
        var shape = new TensorShape(1, 1, 64, Layout.ChannelsFirst);
        var expected = Modelled(1, 64);
        bool[] unfitted = new bool[64];
        unfitted[10] = true;
        var model = expected.Model! with { Unfitted = unfitted };
        // Element 10 off by 1.2e-6: over its residual bound (1e-7), within its combined bound (1e-7 + 1e-6 (1 + 0.34)).
        float[] actual = Exactly(expected);
        var exactValues = expected with { Model = model };
        actual[10] += 1.2e-6f;
        var result = OutputComparison.Compare(exactValues, actual, shape);
        Assert.True(result.Passed, string.Join("; ", result.Findings));
        Assert.Equal(0, result.SystematicRatio);
        // The same damage on a fitted element fails it, and alone; beyond its combined bound the unfitted one fails too.
        actual[20] += 1.2e-6f;
        Assert.Equal([20L], OutputComparison.Compare(exactValues, actual, shape).FirstFailures.Select(f => f.Index));
        actual[10] += 1e-6f;
        Assert.Equal([10L, 20L], OutputComparison.Compare(exactValues, actual, shape).FirstFailures.Select(f => f.Index).Order());
        actual[10] -= 1e-6f;
        actual[20] -= 1.2e-6f;
        var fittedToo = OutputComparison.Compare(exactValues with { Model = expected.Model }, actual, shape);
        Assert.False(fittedToo.Passed);
    }

    [Fact]
    public void ElementBoundsAreTheResidualBoundsPlusTheFitsSpreadAndNaNWhereNotFinite()
    {
        var shape = new TensorShape(1, 1, 64, Layout.ChannelsFirst);
        var expected = Modelled(1, 64);
        float[] actual = Exactly(expected);
        actual[7] = float.NaN;
        double[] bounds = OutputComparison.ElementBounds(expected, actual, shape);
        Assert.True(double.IsNaN(bounds[7]));
        // Δ_k = Σ_j |(G⁻¹ q_j)_k| over the 63 finite elements, q_j = (1, t_j)/R, G = Σ q qᵀ, inverted by hand (2x2).
        const double r = 1e-7;
        int[] fitted = [.. Enumerable.Range(0, 64).Where(i => i != 7)];
        double[] t = expected.Model!.Basis[1];
        double g00 = fitted.Length / (r * r), g01 = fitted.Sum(j => t[j]) / (r * r), g11 = fitted.Sum(j => t[j] * t[j]) / (r * r);
        double det = (g00 * g11) - (g01 * g01);
        double delta0 = fitted.Sum(j => Math.Abs(((g11 * 1) - (g01 * t[j])) / det / r));
        double delta1 = fitted.Sum(j => Math.Abs(((-g01 * 1) + (g00 * t[j])) / det / r));
        foreach (int i in fitted)
            Assert.Equal(r + delta0 + (Math.Abs(t[i]) * delta1), bounds[i], 1e-18);
        var error = Assert.Throws<ArgumentException>(() => OutputComparison.ElementBounds(new ExpectedOutput(BatchNormOutput.DBeta, [1], [1]), [1f], shape));
        Assert.StartsWith("dbeta has no structured model; its bounds are Bounds.", error.Message);
    }

    [Theory]
    [InlineData(0.5, "0.5")]
    [InlineData(0.99961, "0.9996")]
    [InlineData(1.0, "1")]
    [InlineData(1.00041, "1.0004")]
    [InlineData(0.9999999999, "0.9999999999")]
    [InlineData(12.3456, "12.3")]
    [InlineData(double.PositiveInfinity, "inf")]
    public void ARatioIsNeverPrintedOnTheOtherSideOfOne(double ratio, string text) => Assert.Equal(text, Harness.Reports.ReportFormat.Ratio(ratio));

    [Fact]
    public void UnderABoundOfInfinityTheWorstElementIsTheFirstWithAnError()
    {
        var result = PerChannel([1, 5, 9], [double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity], [1f, 7f, 12f]);
        Assert.True(result.Passed);
        Assert.Equal(0, result.WorstRatio);
        Assert.Equal(1, result.Worst!.Index);
        Assert.Equal(2, result.Worst.AbsoluteError);
    }

    [Fact]
    public void FiveSystematicChannelsAreFiveLinesAndNoCount()
    {
        var expected = Modelled(6, 64);
        float[] actual = expected.Values.Select((v, i) => (float)(v + ((i / 64) * 1e-5))).ToArray();
        var result = OutputComparison.Compare(expected, actual, new TensorShape(1, 6, 64, Layout.ChannelsFirst));
        Assert.Equal(5, result.SystematicFailures.Count);
        Assert.Equal(5, result.Findings.Count);
        Assert.All(result.Findings, f => Assert.StartsWith("systematic, y channel ", f));
    }

    [Fact]
    public void FailuresInAFittedChannelAreRankedByTheirResidualNotTheirError()
    {
        // A systematic shift of 5e-7 (within its bound), then two elements at the same |xhat| damaged by +3e-6 and -3.5e-6:
        // the second has the smaller error (3e-6) and the larger residual (3.5e-6), so it is listed first.
        var shape = new TensorShape(1, 1, 64, Layout.ChannelsFirst);
        var expected = Modelled(1, 64);
        double[] actual = [.. expected.Values.Select(v => v + 5e-7)];
        actual[16] += 3e-6;
        actual[48] -= 3.5e-6;
        var result = OutputComparison.Compare(expected, [.. actual.Select(v => (float)v)], shape);
        Assert.Equal([48L, 16L], result.FirstFailures.Select(f => f.Index));
        Assert.True(result.FirstFailures[0].AbsoluteError < result.FirstFailures[1].AbsoluteError);
    }

    [Fact]
    public void ADamagedElementLeavesTheFitOfElementBounds()
    {
        var shape = new TensorShape(1, 1, 64, Layout.ChannelsFirst);
        var expected = Modelled(1, 64);
        float[] actual = Exactly(expected);
        double[] clean = OutputComparison.ElementBounds(expected, actual, shape);
        actual[9] += 1e-4f;
        double[] damaged = OutputComparison.ElementBounds(expected, actual, shape);
        // Without element 9 in the fit its spread is computed over 63 elements: every bound moves.
        Assert.All(Enumerable.Range(0, 64), i => Assert.NotEqual(clean[i], damaged[i]));
    }
}
