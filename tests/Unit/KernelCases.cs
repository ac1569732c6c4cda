using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>Helpers to build one-off cases and run them through the verifier.</summary>
internal static class KernelCases
{
    public static readonly BatchNormPass[] AllPasses = Enum.GetValues<BatchNormPass>();

    /// <summary>Every optimized width this machine runs, as xunit theory data.</summary>
    public static TheoryData<string> OptimizedWidths()
    {
        var data = new TheoryData<string>();
        foreach (string name in KernelCatalog.OptimizedWidths)
            data.Add(name);
        return data;
    }

    public static VerificationCase Case(string name, int n, int c, int s, Layout layout, BatchNormPass pass, Func<VerificationCase, VerificationCase>? tune = null)
    {
        var @case = new VerificationCase { Name = name, Shape = new TensorShape(n, c, s, layout), Pass = pass };
        return tune is null ? @case : tune(@case);
    }

    /// <summary>Runs a case and asserts it passed, printing the failure report otherwise.</summary>
    public static CaseResult AssertPasses(IBatchNormKernel kernel, VerificationCase @case)
    {
        var result = CaseRunner.Run(kernel, @case, Battery.DefaultSeed);
        Assert.True(result.Verdict == Verdict.Passed, BatchNorm.Harness.Reports.TextReport.Failure(result));
        return result;
    }

    /// <summary>The optimized kernel at a width with a thread budget.</summary>
    public static IBatchNormKernel OptimizedAt(string name, int threads = 0) => KernelCatalog.Create(name, threads);

    public static VectorWidth WidthOf(string name) => KernelCatalog.WidthOf(name);
}
