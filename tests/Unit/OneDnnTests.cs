using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// oneDNN 2.6's CPU batch normalization, called in process, verified like any kernel: it passes
/// every quick case but the two findings docs/onednn.md describes, and each of those fails with
/// the diagnosis that names it.
/// </summary>
public class OneDnnTests
{
    [RequiresOneDnnFact]
    public void OneDnnPassesTheQuickSuiteButItsTwoFindings()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnName);
        var results = Verifier.Run(kernel, Battery.For(Suite.Quick), Battery.DefaultSeed);
        var failed = results.Where(r => r.Verdict != Verdict.Passed).Select(r => r.Case.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["c1-large-m/nchw/train", "constant-channel/nhwc/train"], failed);

        // A constant channel in channels-last: y is not beta (oneDNN's variance of equal values is not 0).
        var constant = results.Single(r => r.Case.Name == "constant-channel/nhwc/train").Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.Contains("element-wise: most elements of channel 0", constant.Findings[0]);

        // One channel of 160000 values: the variance is outside the pairwise-summation bound, and y says istd is off.
        var long1 = results.Single(r => r.Case.Name == "c1-large-m/nchw/train");
        Assert.False(long1.Outputs.Single(o => o.Output == BatchNormOutput.BatchVariance).Passed);
        Assert.StartsWith("systematic, y channel 0: equivalent to mean off by", long1.Outputs.Single(o => o.Output == BatchNormOutput.Y).Findings[0]);
    }

    /// <summary>
    /// Fused ReLU (dnnl_fuse_norm_relu), the backward's mask written by oneDNN's own forward: the same
    /// two findings, every backward passing, and one where oneDNN's ReLU handles NaN unlike
    /// torch.relu: in channels-last inference a NaN comes out 0 (channels-first keeps it).
    /// </summary>
    [RequiresOneDnnFact]
    public void OneDnnsFusedReluPassesButItsNaNFinding()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnName);
        var results = Verifier.Run(kernel, Battery.For(Suite.Quick, Activation.Relu), Battery.DefaultSeed);
        var failed = results.Where(r => r.Verdict != Verdict.Passed).Select(r => r.Case.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["relu/c1-large-m/nchw/train", "relu/constant-channel/nhwc/train", "relu/nan-channel/nhwc/infer"], failed);

        var nanOut = results.Single(r => r.Case.Name == "relu/nan-channel/nhwc/infer").Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.Equal(1, nanOut.NonFiniteMismatches);
        Assert.True(double.IsNaN(nanOut.FirstFailures.Single().Expected) && nanOut.FirstFailures.Single().Actual == 0);
    }

    /// <summary>
    /// bfloat16 data (oneDNN's bf16 batch norm, float32 statistics, scale and shift): every y and dx
    /// a correctly rounded value of a float result, but the long channel's variance (the float
    /// accumulation finding); with a ReLU fused, every case passes.
    /// </summary>
    [RequiresOneDnnFact]
    public void OneDnnInBFloat16PassesButTheLongChannel()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnNameOf(DataPrecision.BFloat16));
        Assert.Equal(DataPrecision.BFloat16, kernel.Precision);
        var failed = Verifier.Run(kernel, Battery.For(Suite.Quick, precision: DataPrecision.BFloat16), Battery.DefaultSeed)
            .Where(r => r.Verdict != Verdict.Passed).Select(r => r.Case.Name).ToArray();
        Assert.Equal(["bf16/c1-large-m/nchw/train"], failed);
        Assert.All(Verifier.Run(kernel, Battery.For(Suite.Quick, Activation.Relu, DataPrecision.BFloat16), Battery.DefaultSeed),
            r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));
    }

    [RequiresOneDnnFact]
    public void OneDnnsBackwardsPassInBothLayouts()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnName);
        foreach (string name in new[] { "normal/nchw/backward-train", "normal/nhwc/backward-train", "normal/nchw/backward-infer", "eps-1e-8/nchw/backward-train", "dense/nhwc/backward-infer" })
            KernelCases.AssertPasses(kernel, Verifier.Select(Suite.Quick, name).Single());
    }
}
