using BatchNorm.Harness.Kernels;
using BatchNorm.Tests.Property.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.Property;

/// <summary>Properties 1 and 2: the optimized kernel agrees with the reference at every width, and is bitwise deterministic.</summary>
public class AgreementProperties(ITestOutputHelper output)
{
    public static TheoryData<string> Widths() => new(KernelCatalog.OptimizedWidths);

    [Theory]
    [MemberData(nameof(Widths))]
    public void EveryPassAgreesWithTheReferenceWithinTheToleranceModel(string width)
    {
        var kernel = KernelCatalog.Create(width);
        PropertyRunner.Check(output, $"agreement-{width}", Generators.Cases(), c => Checks.AgreesWithReference(kernel, c));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void EachWidthIsBitwiseDeterministicAcrossRunsAndThreadCounts(string width)
    {
        var kernels = new[] { 1, 2, 3, 7 }.Select(threads => KernelCatalog.Create(width, threads)).ToArray();
        PropertyRunner.Check(output, $"determinism-{width}", Generators.Cases(), c =>
        {
            foreach (var pass in Checks.AllPasses)
            {
                var first = Checks.Run(kernels[0], c, pass).Run;
                foreach (var kernel in kernels)
                {
                    var again = Checks.Run(kernel, c, pass).Run;
                    foreach (var (name, values) in first.Outputs)
                        Checks.BitwiseEqual(values, again.Outputs[name], $"{width} {pass} {name}");
                }
            }
        }, maxTest: 40);
    }
}
