using BatchNorm.Harness.Kernels;
using BatchNorm.Tests.Property.Infrastructure;
using FsCheck.Xunit;

namespace BatchNorm.Tests.Property;

/// <summary>Property 1 under a fused ReLU: every width agrees with the reference on every pass, clamped values and gated gradients included.</summary>
public class ReluProperties
{
    [Property(Arbitrary = [typeof(HuntedReluCases)], MaxTest = 30)]
    public void EveryWidthAgreesWithTheReferenceWithAReluFused(HuntedCase c) => Agreement(c.Materialize());

    /// <summary>The case with ReLU fused, through the optimized kernel at every width.</summary>
    internal static void Agreement(PropertyCase c)
    {
        foreach (string width in KernelCatalog.OptimizedWidths)
            Checks.AgreesWithReference(KernelCatalog.Create(width), c.WithRelu());
    }
}
