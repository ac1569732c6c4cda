using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Comparison.ErrorModel;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The structured model on synthetic errors: any element-wise rounding within its bounds passes,
/// whatever its pattern (the fit's perturbation bound is what makes that true), and damage is
/// named element by element without blurring the fit.
/// </summary>
public class ErrorModelTests
{
    private static readonly TensorShape Shape = new(4, 2, 64, Layout.ChannelsFirst);

    /// <summary>y-like model: basis (1, xhat), R_i = 1e-7 (1 + |xhat|), coefficient bounds 1e-6.</summary>
    private static (ExpectedOutput Expected, double[] Xhat) Model(int seed)
    {
        var random = new Random(seed);
        int n = Shape.ElementCount;
        double[] one = new double[n], xhat = new double[n], residual = new double[n], values = new double[n];
        for (int i = 0; i < n; i++)
        {
            one[i] = 1;
            xhat[i] = CaseInputs.Normal(random);
            residual[i] = 1e-7 * (1 + Math.Abs(xhat[i]));
            values[i] = xhat[i];
        }

        var model = new AffineErrorModel
        {
            BasisNames = ["1", "xhat"],
            Basis = [one, xhat],
            CoefficientBounds = [[1e-6, 1e-6], [1e-6, 1e-6]],
            ResidualBounds = residual,
            Meanings =
            [
                new CoefficientMeaning("mean off by", [-1, -1], null, Relative: false),
                new CoefficientMeaning("istd off by", [1, 1], null, Relative: true),
            ],
        };
        double[] bounds = Enumerable.Range(0, n).Select(i => model.CombinedBound(Shape.CoordinatesOf(i).C, i)).ToArray();
        return (new ExpectedOutput(BatchNormOutput.Y, values, bounds, model), xhat);
    }

    private static OutputComparison Check(ExpectedOutput expected, Func<int, double> error) =>
        OutputComparison.Compare(expected, expected.Values.Select((v, i) => (float)(v + error(i))).ToArray(), Shape);

    /// <summary>Actual values are floats: the test's errors are applied in double first, so use a value scale where float rounding is far below the bounds.</summary>
    private static OutputComparison CheckExact(ExpectedOutput expected, Func<int, double> error)
    {
        // Shift the expected values to what float can hold exactly, then add errors of a size float resolves.
        double[] values = expected.Values.Select(v => (double)(float)v).ToArray();
        var exact = expected with { Values = values };
        float[] actual = values.Select((v, i) => (float)(v + error(i))).ToArray();
        return OutputComparison.Compare(exact, actual, Shape);
    }

    [Theory]
    [InlineData("every residual +R")]
    [InlineData("residual R sign(xhat)")]
    [InlineData("residual R sign(xhat) + systematic at its bound")]
    [InlineData("random within R")]
    public void RoundingWithinItsBoundsPassesInAnyPattern(string pattern)
    {
        var (expected, xhat) = Model(1);
        var random = new Random(2);
        // Errors of 1e-7 on values of order 1 are below float's resolution; scale the model up instead.
        var scaled = Scale(expected, 1e4);
        var m = scaled.Model!;
        double Error(int i) => pattern switch
        {
            "every residual +R" => m.ResidualBounds[i],
            "residual R sign(xhat)" => m.ResidualBounds[i] * Math.Sign(xhat[i]),
            "residual R sign(xhat) + systematic at its bound" => (m.ResidualBounds[i] * Math.Sign(xhat[i])) + 1e-2 - (1e-2 * xhat[i]),
            "random within R" => m.ResidualBounds[i] * ((random.NextDouble() * 2) - 1),
            _ => throw new ArgumentOutOfRangeException(nameof(pattern)),
        };
        var result = CheckExact(scaled, i => 0.999 * Error(i));
        Assert.True(result.Passed, $"{pattern}: systematic {result.SystematicRatio}, residual {result.ResidualRatio}; {string.Join("; ", result.Findings)}");
        Assert.Equal(0, result.ElementwiseChannels);
    }

    [Theory]
    [InlineData("every residual +R")]
    [InlineData("residual R sign(xhat)")]
    [InlineData("random within R")]
    public void RoundingAlonePassesEvenWithNoRoomForASystematicPart(string pattern)
    {
        // With every coefficient bound 0, residuals aligned with the basis move the fitted
        // coefficients off 0: only the fit's perturbation bound (Δ_k, F_i) admits them, as it must.
        var (expected, xhat) = Model(7);
        var scaled = Scale(expected, 1e4);
        var m = scaled.Model!;
        var noRoom = scaled with
        {
            Model = new AffineErrorModel
            {
                BasisNames = m.BasisNames,
                Basis = m.Basis,
                CoefficientBounds = [[0, 0], [0, 0]],
                ResidualBounds = m.ResidualBounds,
                Meanings = m.Meanings,
            },
        };
        var random = new Random(8);
        double Error(int i) => pattern switch
        {
            "every residual +R" => m.ResidualBounds[i],
            "residual R sign(xhat)" => m.ResidualBounds[i] * Math.Sign(xhat[i]),
            "random within R" => m.ResidualBounds[i] * ((random.NextDouble() * 2) - 1),
            _ => throw new ArgumentOutOfRangeException(nameof(pattern)),
        };
        var result = CheckExact(noRoom, i => 0.999 * Error(i));
        Assert.True(result.Passed, $"{pattern}: systematic {result.SystematicRatio}, residual {result.ResidualRatio}");
        if (pattern != "random within R")
            Assert.True(result.SystematicRatio > 0.1, "the aligned residuals really do move the fit (without Δ the ratio would be infinite)");
    }

    [Fact]
    public void ASystematicErrorOverItsBoundFailsItsChannelAndNamesTheCoefficient()
    {
        var scaled = Scale(Model(3).Expected, 1e4);
        // Channel 1's slope twice its bound (1e-2 after scaling), nothing else.
        var result = CheckExact(scaled, i => Shape.CoordinatesOf(i).C == 1 ? 2e-2 * scaled.Model!.Basis[1][i] : 0);
        Assert.False(result.Passed);
        var failure = Assert.Single(result.SystematicFailures);
        Assert.Equal(1, failure.Channel);
        Assert.InRange(failure.Ratio, 1.5, 2.01);
        Assert.Equal(0, result.OverBound);
        Assert.StartsWith("systematic, y channel 1: equivalent to mean off by", result.Findings[0]);
        Assert.Contains("(coefficient of xhat)", result.Findings[0]);
    }

    [Fact]
    public void AFewDamagedElementsAreNamedOneByOneAndDoNotBlurTheFit()
    {
        var scaled = Scale(Model(4).Expected, 1e4);
        var m = scaled.Model!;
        var random = new Random(5);
        int[] damaged = [3, 77, 200];
        // Rounding everywhere within 0.5 R, a systematic part within bounds, and three elements 1000 R off.
        double[] rounding = Enumerable.Range(0, Shape.ElementCount).Select(i => 0.5 * m.ResidualBounds[i] * ((random.NextDouble() * 2) - 1)).ToArray();
        var result = CheckExact(scaled, i => rounding[i] + 5e-3 + (damaged.Contains(i) ? 1000 * m.ResidualBounds[i] : 0));
        Assert.Equal(damaged, result.FirstFailures.Select(f => (int)f.Index).Order());
        Assert.Empty(result.SystematicFailures);
    }

    [Fact]
    public void OneLaneOfEveryVectorOfAChannelIsNamedAsALane()
    {
        var scaled = Scale(Model(6).Expected, 1e4);
        var m = scaled.Model!;
        // Position 5 mod 16 of every run of channel 0, all 8 R off in the same direction: 1/16 of the channel.
        bool Lane(int i) => Shape.CoordinatesOf(i) is var (_, c, s) && c == 0 && s % 16 == 5;
        var result = CheckExact(scaled, i => Lane(i) ? 8 * m.ResidualBounds[i] : 0);
        Assert.False(result.Passed);
        Assert.All(result.FirstFailures, f => Assert.True(Lane((int)f.Index)));
        Assert.Equal(16, result.OverBound);
        Assert.StartsWith("element-wise: one lane: position 5 mod 16 of each contiguous run: 16 elements, channel 0", result.Findings.Single());
    }

    [Fact]
    public void TooFewElementsFallBackToTheCombinedBoundAndSaySo()
    {
        var shape = new TensorShape(1, 1, 7, Layout.ChannelsFirst);
        double[] one = Enumerable.Repeat(1.0, 7).ToArray(), xhat = [-1.5, -1, -0.5, 0, 0.5, 1, 1.5];
        var model = new AffineErrorModel
        {
            BasisNames = ["1", "xhat"],
            Basis = [one, xhat],
            CoefficientBounds = [[1e-3, 1e-3]],
            ResidualBounds = Enumerable.Repeat(1e-3, 7).ToArray(),
            Meanings = [new("mean off by", [1], null, false), new("istd off by", [1], null, true)],
        };
        var expected = new ExpectedOutput(BatchNormOutput.Y, xhat, xhat.Select((_, i) => model.CombinedBound(0, i)).ToArray(), model);
        var pass = OutputComparison.Compare(expected, xhat.Select(v => (float)(v + 1.5e-3)).ToArray(), shape);
        Assert.True(pass.Passed);
        Assert.Equal(1, pass.ElementwiseChannels);
        Assert.Contains(pass.Findings, f => f.Contains("checked element by element", StringComparison.Ordinal));
        var fail = OutputComparison.Compare(expected, xhat.Select((v, i) => (float)(v + (i == 6 ? 4e-3 : 0))).ToArray(), shape);
        Assert.Equal(6, Assert.Single(fail.FirstFailures).Index);
    }

    [Theory]
    [InlineData(new[] { 63, 127, 191 }, "the last 1 elements of contiguous runs (a vector tail): 3 elements in 3 of 8 runs")]
    [InlineData(new[] { 61, 62, 63 }, "the last 3 elements of contiguous runs (a vector tail): 3 elements in 1 of 8 runs, channel 0")]
    [InlineData(new[] { 59, 61, 63, 123, 125, 127 }, "every 2nd of the last 5 elements of contiguous runs (a vector tail)")]
    [InlineData(new[] { 5, 21, 37, 133, 149 }, "one lane: position 5 mod 16 of each contiguous run: 5 elements")]
    [InlineData(new[] { 130, 140, 150, 160 }, "one sample: n = 1: 4 elements")]
    [InlineData(new[] { 10, 250 }, "2 isolated elements, 2 channels (0, 1)")]
    [InlineData(new[] { 77 }, "1 isolated element, channel 1")]
    public void DamagePatternsAreNamedByTheLoopThatWritesThem(int[] flat, string expected)
    {
        Assert.StartsWith(expected, DamagePattern.Describe(Shape, flat));
    }

    [Fact]
    public void MostOfAChannelIsNamedAsTheChannel()
    {
        var channel1 = Shape.ChannelOffsets(1).ToArray();
        Assert.StartsWith("most elements of channel 1: 256 elements", DamagePattern.Describe(Shape, channel1));
    }

    [Fact]
    public void ChannelsLastTailsAreTheLastChannelsOfEachRow()
    {
        var shape = new TensorShape(2, 20, 3, Layout.ChannelsLast);
        int[] lastTwo = Enumerable.Range(0, 6).SelectMany(row => new[] { (row * 20) + 18, (row * 20) + 19 }).ToArray();
        Assert.StartsWith("the last 2 channels of channels-last rows (a vector tail): 12 elements in 6 of 6 runs, 2 channels (18, 19)", DamagePattern.Describe(shape, lastTwo));
    }

    /// <summary>The same model with expected values and every bound scaled, so errors of the bounds' size are resolved by float.</summary>
    private static ExpectedOutput Scale(ExpectedOutput expected, double factor)
    {
        var m = expected.Model!;
        var model = new AffineErrorModel
        {
            BasisNames = m.BasisNames,
            Basis = m.Basis,
            CoefficientBounds = m.CoefficientBounds.Select(b => b.Select(v => v * factor).ToArray()).ToArray(),
            ResidualBounds = m.ResidualBounds.Select(v => v * factor).ToArray(),
            Meanings = m.Meanings,
        };
        return expected with { Model = model, Bounds = expected.Bounds.Select(v => v * factor).ToArray() };
    }
}
