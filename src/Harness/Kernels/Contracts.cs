namespace BatchNorm.Harness.Kernels;

/// <summary>Which contract a kernel is verified under.</summary>
internal static class Contracts
{
    /// <summary>The contract it declares, or <see cref="NumericalContract.Default"/> when it declares none.</summary>
    public static NumericalContract Of(IBatchNormKernel kernel) => kernel.Contract ?? NumericalContract.Default;
}
