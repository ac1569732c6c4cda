using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// oneDNN 2.6's CPU batch normalization, called in process, verified like any kernel under the contract it
/// was measured to meet (float-lanes:16/two-pass/centred, docs/onednn.md): it passes every quick case but
/// one NaN finding under a fused ReLU. Judged by the default contract (float pairwise sums), the two
/// cases where its float sums run deeper than pairwise fail, each with the diagnosis that names it.
/// </summary>
public class OneDnnTests
{
    private static readonly NumericalContract Declared = NumericalContract.Parse("float-lanes:16/two-pass/centred");

    [RequiresOneDnnFact]
    public void OneDnnPassesTheQuickSuiteUnderItsContractAndFailsTheDefaultWhereItsSumsRunDeep()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnName);
        Assert.Equal(Declared, kernel.Contract);
        Assert.All(Verifier.Run(kernel, Battery.For(Suite.Quick), Battery.DefaultSeed), r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));

        var results = Verifier.Run(kernel, Battery.For(Suite.Quick), Battery.DefaultSeed, contract: NumericalContract.Default);
        var failed = results.Where(r => r.Verdict != Verdict.Passed).Select(r => r.Case.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["c1-large-m/nchw/train", "constant-channel/nhwc/train"], failed);

        // A constant channel in channels-last: y is not beta (its float mean of 160 equal values is off by more than a pairwise sum's error).
        var constant = results.Single(r => r.Case.Name == "constant-channel/nhwc/train").Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.Contains("channel 0", constant.Findings[0]);

        // One channel of 160000 values: the variance is outside the pairwise-summation bound, and y says istd is off.
        var long1 = results.Single(r => r.Case.Name == "c1-large-m/nchw/train");
        Assert.False(long1.Outputs.Single(o => o.Output == BatchNormOutput.BatchVariance).Passed);
        Assert.StartsWith("systematic, y channel 0: equivalent to mean off by", long1.Outputs.Single(o => o.Output == BatchNormOutput.Y).Findings[0]);
    }

    /// <summary>
    /// Fused ReLU (dnnl_fuse_norm_relu), the backward's mask written by oneDNN's own forward: every case
    /// passes but one where oneDNN's ReLU handles NaN unlike torch.relu: in channels-last inference a NaN
    /// comes out 0 (channels-first keeps it).
    /// </summary>
    [RequiresOneDnnFact]
    public void OneDnnsFusedReluPassesButItsNaNFinding()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnName);
        var results = Verifier.Run(kernel, Battery.For(Suite.Quick, Activation.Relu), Battery.DefaultSeed);
        var failed = results.Where(r => r.Verdict != Verdict.Passed).Select(r => r.Case.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["relu/nan-channel/nhwc/infer"], failed);

        var nanOut = results.Single(r => r.Case.Name == "relu/nan-channel/nhwc/infer").Outputs.Single(o => o.Output == BatchNormOutput.Y);
        Assert.Equal(1, nanOut.NonFiniteMismatches);
        Assert.True(double.IsNaN(nanOut.FirstFailures.Single().Expected) && nanOut.FirstFailures.Single().Actual == 0);
    }

    /// <summary>
    /// bfloat16 data (oneDNN's bf16 batch norm, float32 statistics, scale and shift): every y and dx a
    /// correctly rounded value of a float result; under its contract every case passes, plain and with a
    /// ReLU fused; under the default the long channel's variance fails (its float accumulation).
    /// </summary>
    [RequiresOneDnnFact(DataPrecision.BFloat16)]
    public void OneDnnInBFloat16PassesUnderItsContract()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnNameOf(DataPrecision.BFloat16));
        Assert.Equal(DataPrecision.BFloat16, kernel.Precision);
        foreach (var activation in new[] { Activation.None, Activation.Relu })
        {
            Assert.All(Verifier.Run(kernel, Battery.For(Suite.Quick, activation, DataPrecision.BFloat16), Battery.DefaultSeed),
                r => Assert.True(r.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(r)));
        }

        var failed = Verifier.Run(kernel, Battery.For(Suite.Quick, precision: DataPrecision.BFloat16), Battery.DefaultSeed, contract: NumericalContract.Default)
            .Where(r => r.Verdict != Verdict.Passed).Select(r => r.Case.Name).ToArray();
        Assert.Equal(["bf16/c1-large-m/nchw/train"], failed);
    }

    [RequiresOneDnnFact]
    public void OneDnnsBackwardsPassInBothLayouts()
    {
        var kernel = KernelCatalog.Create(KernelCatalog.OneDnnName);
        foreach (string name in new[] { "normal/nchw/backward-train", "normal/nhwc/backward-train", "normal/nchw/backward-infer", "eps-1e-8/nchw/backward-train", "dense/nhwc/backward-infer" })
            KernelCases.AssertPasses(kernel, Verifier.Select(Suite.Quick, name).Single());
    }

    /// <summary>
    /// A data format oneDNN has no batch norm for on this CPU (bf16 without AVX-512) is an unavailable kernel with the
    /// reason, not a kernel that fails every case; where oneDNN has one, the kernel is listed and passes.
    /// </summary>
    [RequiresOneDnnFact]
    public void APrecisionThisCpuCannotRunIsUnavailableWithItsReason()
    {
        foreach (var precision in new[] { DataPrecision.Float32, DataPrecision.BFloat16 })
        {
            string name = KernelCatalog.OneDnnNameOf(precision);
            string? reason = KernelCatalog.Unavailable.FirstOrDefault(k => k.Name == name).Reason;
            if (reason is null)
            {
                Assert.Contains(name, KernelCatalog.Names);
                KernelCases.AssertPasses(KernelCatalog.Create(name), Battery.For(Suite.Quick, precision: precision)[0]);
                continue;
            }

            Assert.Equal(DataPrecision.BFloat16, precision);
            Assert.Contains("unimplemented", reason);
            Assert.DoesNotContain(name, KernelCatalog.Names);
            Assert.Contains(reason, Assert.Throws<ArgumentException>(() => KernelCatalog.Create(name)).Message);
            var run = Bnverify.Run("verify", "--kernel", name, "--case", "normal/nchw/train");
            Assert.Equal(2, run.ExitCode);
            Assert.Contains(reason, run.Error + run.Output);
        }
    }
}
