using BatchNorm.Reference;
using MathNet.Numerics.Statistics;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>The reference's statistics against an independent implementation and against exact values.</summary>
public class ReferenceStatisticsTests
{
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(1e4, 1e-2)]      // large mean, small spread: the one-pass formula's failure case
    [InlineData(1e6, 1.0)]
    [InlineData(-3.0, 1e-20)]
    public void AgreesWithMathNetToOneInATrillion(double offset, double spread)
    {
        var random = new Random(20261121);
        var shape = new TensorShape(7, 3, 13, Layout.ChannelsLast);
        double[] x = new double[shape.ElementCount];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(offset + spread * (random.NextDouble() * 2 - 1));   // float inputs, as the harness feeds them
        for (int c = 0; c < shape.C; c++)
        {
            double[] values = shape.ChannelOffsets(c).Select(i => x[i]).ToArray();
            var stats = ChannelStatistics.Of(x, shape, c);
            Assert.InRange(Math.Abs(stats.Mean - values.Mean()), 0, 1e-12 * Math.Abs(values.Mean()));
            double mathNetVariance = values.PopulationVariance();
            Assert.InRange(Math.Abs(stats.Variance - mathNetVariance), 0, 1e-12 * mathNetVariance);
        }
    }

    [Fact]
    public void ExactOnInputsBuiltSoTheStatisticsAreRepresentable()
    {
        // Pairs m + a_k, m - a_k with a_k = k * 2^-10: the mean is exactly m, and the variance is
        // exactly 2 * sum a_k^2 / M, computed here in integers (sum k^2) and scaled by powers of two.
        const double m = 1536.0;
        const int pairs = 32;    // M = 64, a power of two, so every division is exact
        var shape = new TensorShape(pairs * 2, 1, 1, Layout.ChannelsFirst);
        double[] x = new double[shape.ElementCount];
        long sumK2 = 0;
        for (int k = 1; k <= pairs; k++)
        {
            double a = k * Math.ScaleB(1, -10);
            x[2 * (k - 1)] = m + a;
            x[2 * (k - 1) + 1] = m - a;
            sumK2 += (long)k * k;
        }

        var stats = ChannelStatistics.Of(x, shape, 0);
        Assert.Equal(m, stats.Mean);
        Assert.Equal(Math.ScaleB(2.0 * sumK2, -20) / (pairs * 2), stats.Variance);
    }

    [Fact]
    public void WithinFourUlpsWhenTheMeanIsNotRepresentable()
    {
        // M - 1 values 2^30 and one 2^30 + 128, M = 3 * 2^14. The exact mean 2^30 + 2^-7/3 rounds
        // to the nearest double, a third of an ulp (2^-22 / 3) away; an uncorrected two-pass variance
        // would carry that error squared, about 100 ulps of the variance. The correction term removes it.
        const int m = 3 << 14;
        var shape = new TensorShape(m, 1, 1, Layout.ChannelsFirst);
        double[] x = Enumerable.Repeat(Math.ScaleB(1, 30), m).ToArray();
        x[m / 2] += 128;
        var stats = ChannelStatistics.Of(x, shape, 0);

        // Exact rationals, each an exact double numerator over an exact double denominator: one rounding.
        double exactMean = (Math.ScaleB(1, 30) * m + 128) / m;
        double exactVariance = 128.0 * 128 * (m - 1) / ((double)m * m);
        Assert.Equal(exactMean, stats.Mean);   // exactness is the claim: an exact sum, one division
        double ulp = Math.BitIncrement(exactVariance) - exactVariance;
        Assert.InRange(Math.Abs(stats.Variance - exactVariance), 0, 4 * ulp);
    }

    [Fact]
    public void CompensatedSumKeepsSmallTermsAroundALargerOne()
    {
        // A term that dwarfs the running sum is where Kahan's algorithm loses everything (it returns 0
        // here); Neumaier's branch on the larger operand keeps both ones.
        var sum = new CompensatedSum();
        foreach (double term in new[] { 1.0, 1e100, 1.0, -1e100 })
            sum.Add(term);
        Assert.Equal(2.0, sum.Value);
    }

    [Fact]
    public void CompensatedSumRecoversWhatPlainSummationLoses()
    {
        // 1 + 2^-60 * 2^20 times: plain double summation returns 1, the exact sum is 1 + 2^-40.
        var sum = new CompensatedSum();
        sum.Add(1.0);
        for (int i = 0; i < 1 << 20; i++)
            sum.Add(Math.ScaleB(1, -60));
        Assert.Equal(1.0 + Math.ScaleB(1, -40), sum.Value);
    }
}
