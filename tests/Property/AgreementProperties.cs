using BatchNorm.Harness.Kernels;
using BatchNorm.Tests.Property.Infrastructure;
using FsCheck.Xunit;

namespace BatchNorm.Tests.Property;

/// <summary>
/// Properties 1 and 2, over the cases hunt searches (<see cref="HuntedCases"/>: shapes at every vector width and tail,
/// long channels, every value family, pass, option and a fused ReLU): the optimized kernel agrees with the reference at
/// every width, and is bitwise deterministic across runs and thread counts. A failure is shrunk by hunt's shrinker and
/// printed with a case file that <c>bnverify verify --case-file</c> replays.
/// </summary>
[Properties(Arbitrary = [typeof(HuntedCases)])]
public class AgreementProperties
{
    [Property(MaxTest = 40)]
    public void EveryPassAgreesWithTheReferenceAtEveryWidth(HuntedCase c)
    {
        var materialized = c.Materialize();
        foreach (string width in KernelCatalog.OptimizedWidths)
            Checks.AgreesWithReference(KernelCatalog.Create(width), materialized);
    }

    [Property(MaxTest = 12)]
    public void EachWidthIsBitwiseDeterministicAcrossRunsAndThreadCounts(HuntedCase c)
    {
        var materialized = c.Materialize();
        foreach (string width in KernelCatalog.OptimizedWidths)
        {
            var kernels = new[] { 1, 2, 3, 7 }.Select(threads => KernelCatalog.Create(width, threads)).ToArray();
            foreach (var pass in Checks.AllPasses)
            {
                var first = Checks.Run(kernels[0], materialized, pass).Run;
                foreach (var kernel in kernels)
                {
                    var again = Checks.Run(kernel, materialized, pass).Run;
                    foreach (var (name, values) in first.Outputs)
                        Checks.BitwiseEqual(values, again.Outputs[name], $"{width} {pass} {name}");
                }
            }
        }
    }
}
