using BatchNorm.Harness;
using BatchNorm.Harness.Kernels;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>BatchNormVerifier, the library's entry point: a verdict and a report a test framework shows as its failure.</summary>
public class LibraryEntryPointTests
{
    [Fact]
    public void TheOptimizedKernelPassesAndEnsurePassedDoesNotThrow()
    {
        var report = BatchNormVerifier.Verify(KernelCatalog.Create("optimized"), Suite.Quick);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(89, report.Cases.Count);
        Assert.All(report.Cases, c => Assert.Null(c.Failure));
        Assert.InRange(report.WorstHeadroom, 0.01, 1);
        report.EnsurePassed();
    }

    [Fact]
    public void AFaultyKernelThrowsWithTheReportAsItsMessage()
    {
        var kernel = KernelCatalog.Create("faulty:tail-skipped");
        var failure = Assert.Throws<BatchNormVerificationException>(() => BatchNormVerifier.Verify(kernel, Suite.Quick).EnsurePassed());

        Assert.False(failure.Report.Passed);
        Assert.StartsWith("faulty:tail-skipped, suite quick, seed 20261121: ", failure.Message);
        var failed = failure.Report.Cases.Where(c => c.Verdict == Verdict.Failed).ToArray();
        Assert.NotEmpty(failed);
        Assert.All(failed, c => Assert.Contains(c.Failure!, failure.Message));
        Assert.Contains("BatchNormVerifier.Verify(kernel, Suite.Quick, new VerificationSettings { Case = \"" + failed[0].Name + "\", Seed = 20261121 })", failure.Message);
    }

    [Fact]
    public void SettingsSelectACaseAndAShard()
    {
        var kernel = KernelCatalog.Create("optimized");
        Assert.Equal(["normal/nchw/train"], BatchNormVerifier.Verify(kernel, Suite.Quick, new VerificationSettings { Case = "normal/nchw/train" }).Cases.Select(c => c.Name));
        var shards = Enumerable.Range(1, 3).SelectMany(k => BatchNormVerifier.Verify(kernel, Suite.Quick, new VerificationSettings { Case = "normal", Shard = (k, 3) }).Cases);
        Assert.Equal(BatchNormVerifier.Verify(kernel, Suite.Quick, new VerificationSettings { Case = "normal" }).Cases.Select(c => c.Name).Order(StringComparer.Ordinal),
            shards.Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SettingsFuseAReluAndTheReproducerSaysSo()
    {
        var settings = new VerificationSettings { Activation = Activation.Relu, Case = "relu/normal" };
        var report = BatchNormVerifier.Verify(KernelCatalog.Create("optimized"), Suite.Quick, settings);
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(8, report.Cases.Count);

        var failure = Assert.Throws<BatchNormVerificationException>(() => BatchNormVerifier.Verify(KernelCatalog.Create("faulty:relu-not-applied"), Suite.Quick, settings).EnsurePassed());
        Assert.Contains("new VerificationSettings { Activation = Activation.Relu, Case = \"relu/normal/nchw/train\", Seed = 20261121 }", failure.Message);

        var refused = Assert.Throws<ArgumentException>(() => BatchNormVerifier.Verify(KernelCatalog.Create("faulty:tail-skipped"), Suite.Quick, settings));
        Assert.Contains("does not fuse it", refused.Message);
    }

    [Fact]
    public void AKernelsDataPrecisionPicksItsFormatsCases()
    {
        var report = BatchNormVerifier.Verify(KernelCatalog.Create("optimized-bf16"), Suite.Quick, new VerificationSettings { Case = "bf16/normal" });
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(8, report.Cases.Count);
        Assert.Throws<ArgumentException>(() => BatchNormVerifier.Verify(KernelCatalog.Create("optimized-bf16"), Suite.Quick, new VerificationSettings { Case = "normal" }));
    }

    [Fact]
    public void SettingsThatSelectNothingAreRefused()
    {
        var kernel = KernelCatalog.Create("optimized");
        Assert.Throws<ArgumentException>(() => BatchNormVerifier.Verify(kernel, Suite.Quick, new VerificationSettings { Case = "no-such-case" }));
        Assert.Throws<ArgumentException>(() => BatchNormVerifier.Verify(kernel, Suite.Quick, new VerificationSettings { Shard = (4, 3) }));
        Assert.Throws<ArgumentNullException>(() => BatchNormVerifier.Verify(null!, Suite.Quick));
    }
}
