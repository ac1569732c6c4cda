using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit.Reports;

/// <summary>The HTML report's histograms: bins at the verdict's boundary, and counts that agree with the comparison's own.</summary>
public class ErrorHistogramTests
{
    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(1e-9, 1)]
    [InlineData(1e-6, 2)]
    [InlineData(0.5, 7)]
    [InlineData(1.0, 7)] // the verdict passes error/bound 1, so its bin must be a passing one
    [InlineData(1.0000001, ErrorHistogram.FirstFailingRatioBin)]
    [InlineData(9.99, ErrorHistogram.FirstFailingRatioBin)]
    [InlineData(10.0, ErrorHistogram.FirstFailingRatioBin + 1)]
    [InlineData(double.PositiveInfinity, ErrorHistogram.FirstFailingRatioBin + 1)]
    [InlineData(double.NaN, ErrorHistogram.FirstFailingRatioBin + 1)]
    public void ARatioFallsInItsDecadeAndOnlyARatioAboveOneInAFailingBin(double ratio, int bin) =>
        Assert.Equal(bin, ErrorHistogram.RatioBin(ratio));

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(10.0, 1)]
    [InlineData(-1.0, 1)]
    [InlineData(0.5, 2)]
    [InlineData(0.05, 3)]
    [InlineData(1e-7, 7)]
    [InlineData(double.NaN, 8)]
    [InlineData(double.NegativeInfinity, 8)]
    public void AMagnitudeIsBinnedRelativeToTheOutputsLargest(double expected, int bin) =>
        Assert.Equal(bin, ErrorHistogram.MagnitudeBin(expected, scale: 10));

    [Theory]
    [InlineData("optimized", "normal/nhwc/train")]
    [InlineData("faulty:one-element-64-ulp", "normal/nhwc/train")]
    [InlineData("faulty:tail-wrong-stride", "c-tail-17/nhwc/train")]
    [InlineData("faulty:backward-no-mean-dy", "normal/nchw/backward-train")]
    public void EveryElementIsCountedOnceAndTheFailingBinsHoldExactlyTheElementsOverTheirBound(string kernel, string caseName)
    {
        var result = Assert.Single(Verifier.Run(KernelCatalog.Create(kernel), Verifier.Select(Suite.Quick, caseName), Battery.DefaultSeed));
        foreach (var output in result.Outputs)
        {
            long[] byRatio = output.Histogram.ByRatio();
            Assert.Equal(output.Count, output.Histogram.Total);
            Assert.Equal(output.Count, byRatio.Sum());
            Assert.Equal(output.OverBound, byRatio[ErrorHistogram.FirstFailingRatioBin..].Sum());
        }

        Assert.Equal(kernel != "optimized", result.Outputs.Any(o => !o.Passed));
    }

    [Fact]
    public void HistogramsOfSeveralCasesAddUp()
    {
        var results = Verifier.Run(KernelCatalog.Create("optimized"), Verifier.Select(Suite.Quick, "normal"), Battery.DefaultSeed);
        var ys = results.SelectMany(r => r.Outputs).Where(o => o.Output == BatchNormOutput.Y).ToList();
        var sum = ErrorHistogram.Sum(ys.Select(o => o.Histogram));
        Assert.True(ys.Count > 1);
        Assert.Equal(ys.Sum(o => (long)o.Count), sum.Total);
        for (int bin = 0; bin < ErrorHistogram.RatioLabels.Length; bin++)
            Assert.Equal(ys.Sum(o => o.Histogram.ByRatio()[bin]), sum.ByRatio()[bin]);
    }
}
