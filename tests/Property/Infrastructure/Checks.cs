using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Tests.Property.Infrastructure;

/// <summary>Running a case through a kernel and the reference, and asserting on the result.</summary>
internal static class Checks
{
    public static readonly BatchNormPass[] AllPasses = Enum.GetValues<BatchNormPass>();

    /// <summary>The optimized kernel at every width this machine runs, plus the plain scalar baseline.</summary>
    public static IReadOnlyList<IBatchNormKernel> EveryKernel() =>
        KernelCatalog.OptimizedWidths.Append("scalar-float").Select(name => KernelCatalog.Create(name)).ToArray();

    /// <summary>Every output of every pass within the tolerance model, and no write outside an output.</summary>
    public static void AgreesWithReference(IBatchNormKernel kernel, PropertyCase c)
    {
        foreach (var pass in AllPasses)
        {
            var (run, expected) = Run(kernel, c, pass);
            foreach (var output in expected)
            {
                var comparison = OutputComparison.Compare(output, run.Outputs[output.Name], c.Shape);
                if (comparison.Passed)
                    continue;
                // An output fails by elements over their bound, or by a channel's systematic part alone (then no element is listed).
                if (comparison.FirstFailures.Count > 0)
                {
                    var worst = comparison.FirstFailures[0];
                    throw new LawViolation($"{kernel.Name} {pass} {output.Name}[{worst.Index}]: expected {worst.Expected:R}, got {worst.Actual:R}, bound {worst.Bound:R} ({comparison.OverBound} over)");
                }

                throw new LawViolation($"{kernel.Name} {pass} {output.Name}: {string.Join("; ", comparison.Findings)}");
            }
        }
    }

    /// <summary>Runs one pass of a case through a kernel; throws on a violation (write outside an output, exception, changed input).</summary>
    public static (KernelRun Run, IReadOnlyList<ExpectedOutput> Expected) Run(IBatchNormKernel kernel, PropertyCase c, BatchNormPass pass)
    {
        var @case = c.ToCase(pass);
        var inputs = c.ToInputs().WithForwardY(@case);
        var run = KernelRun.Execute(kernel, @case, inputs);
        if (run.Violations.Count > 0)
            throw new LawViolation($"{kernel.Name} {pass}: {string.Join("; ", run.Violations)}");
        return (run, ExpectedOutputs.Compute(@case, inputs, Contracts.Of(kernel)));
    }

    /// <summary>Asserts two float arrays are bitwise the same (a NaN equals the same NaN).</summary>
    public static void BitwiseEqual(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string what)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                throw new LawViolation($"{what}: element {i} differs in bits ({a[i]:R} vs {b[i]:R})");
        }
    }

    /// <summary>Asserts |actual - expected| &lt;= tolerance, naming the law.</summary>
    public static void Close(double actual, double expected, double tolerance, string law)
    {
        if (!(Math.Abs(actual - expected) <= tolerance))
            throw new LawViolation($"{law}: {actual:R} vs {expected:R}, tolerance {tolerance:R}");
    }
}
