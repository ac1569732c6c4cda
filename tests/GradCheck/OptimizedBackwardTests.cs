using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.GradCheck;

/// <summary>The optimized backward passes at every width against the (finite-difference-checked) reference, within the tolerance model.</summary>
public class OptimizedBackwardTests
{
    public static TheoryData<string> Widths() => new(KernelCatalog.OptimizedWidths);

    [Theory]
    [MemberData(nameof(Widths))]
    public void EveryBackwardCaseOfTheFullSuitePasses(string width)
    {
        var kernel = KernelCatalog.Create(width);
        var backward = Battery.For(Suite.Full).Where(c => c.Pass is BatchNormPass.BackwardTraining or BatchNormPass.BackwardInference).ToList();
        Assert.True(backward.Count > 100);
        foreach (var @case in backward)
        {
            var result = CaseRunner.Run(kernel, @case, Battery.DefaultSeed);
            Assert.True(result.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(result));
        }
    }

    [Theory]
    [InlineData("faulty:backward-no-mean-dy")]
    [InlineData("faulty:backward-no-xhat-term")]
    [InlineData("faulty:backward-inference-formula")]
    public void TheSameCheckRejectsTheFloatKernelsWithTheSameMistakes(string name)
    {
        var results = Verifier.Run(KernelCatalog.Create(name), Battery.For(Suite.Quick).Where(c => c.Pass == BatchNormPass.BackwardTraining).ToList(), Battery.DefaultSeed);
        Assert.Contains(results, r => r.Verdict == Verdict.Failed && r.Outputs.Any(o => o.Output == BatchNormOutput.Dx && !o.Passed));
    }
}
