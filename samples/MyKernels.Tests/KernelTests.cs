using BatchNorm.Harness;
using Xunit;

namespace MyKernels.Tests;

/// <summary>Each kernel verified on bnverify's quick suite, from an ordinary xunit test.</summary>
public class KernelTests
{
    [Fact]
    public void PlainBatchNormPassesTheQuickSuite() => BatchNormVerifier.Verify(new PlainBatchNorm(), Suite.Quick).EnsurePassed();

    [Fact]
    public void TheBesselBugFailsAndTheReportSaysTheInverseStdIsOff()
    {
        var failure = Assert.Throws<BatchNormVerificationException>(() => BatchNormVerifier.Verify(new BesselBatchNorm(), Suite.Quick).EnsurePassed());

        Assert.Contains("plain-bessel-bug", failure.Message);
        Assert.Contains("istd off by", failure.Message);
        Assert.Contains(failure.Report.Cases, c => c.Verdict == Verdict.Failed && c.Name.EndsWith("/train", StringComparison.Ordinal));
    }
}
