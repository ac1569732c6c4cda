using System.Diagnostics;
using System.Globalization;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Detectors;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Verification;

/// <summary>
/// Runs one case, in benchdnn's order: fill, reference, kernel (twice, for determinism), compare,
/// judge.
/// </summary>
internal static class CaseRunner
{
    /// <summary>Above this fraction of exactly-zero expected values in y or dx, a case proves little.</summary>
    public const double MistrustZeroFraction = 0.3;

    /// <summary>
    /// The same under a fused ReLU, where up to about half of y (clamped) and of dx (gated off) is 0
    /// by design: above this fraction too few values are left to say anything about the batch norm.
    /// </summary>
    public const double MistrustReluZeroFraction = 0.7;

    /// <summary>Runs <paramref name="case"/> on <paramref name="kernel"/> and judges it under <paramref name="contract"/> (default: the kernel's own, <see cref="Contracts.Of"/>).</summary>
    public static CaseResult Run(IBatchNormKernel kernel, VerificationCase @case, int suiteSeed, NumericalContract? contract = null)
    {
        var clock = Stopwatch.StartNew();
        contract ??= Contracts.Of(kernel);
        var inputs = CaseInputs.Draw(@case, suiteSeed);
        var expected = ExpectedOutputs.Compute(@case, inputs, contract);
        var first = KernelRun.Execute(kernel, @case, inputs);
        var second = KernelRun.Execute(kernel, @case, inputs);

        var violations = new List<string>(first.Violations);
        foreach (var (name, values) in first.Outputs)
        {
            int differ = FirstBitDifference(values, second.Outputs[name]);
            if (differ >= 0)
                violations.Add($"{name.Name()}: two runs on the same input differ in bits, first at element {differ} (nondeterministic)");
        }

        return Judge(kernel.Name, @case, suiteSeed, contract, expected, first.Outputs, violations, clock, inputs);
    }

    /// <summary>
    /// The compare and judge steps on outputs from anywhere (a kernel run, or files a program wrote):
    /// every expected output compared, the violations found so far kept, mistrust decided.
    /// </summary>
    public static CaseResult Judge(string kernel, VerificationCase @case, int suiteSeed, NumericalContract contract, IReadOnlyList<ExpectedOutput> expected,
        IReadOnlyDictionary<BatchNormOutput, float[]> outputs, List<string> violations, Stopwatch clock, CaseInputs inputs)
    {
        var comparisons = BugDetectors.Annotate(@case, inputs, expected, CompareOutputs(expected, outputs, @case.Shape, violations), outputs);
        RequireFormat(@case.Precision, outputs, violations);
        return new CaseResult
        {
            Case = @case,
            Kernel = kernel,
            SuiteSeed = suiteSeed,
            Contract = contract,
            Outputs = comparisons,
            Violations = violations,
            MistrustReason = Mistrust(@case, comparisons),
            Elapsed = clock.Elapsed,
        };
    }

    /// <summary>
    /// Compares every expected output with the kernel's. An expected output the run does not have is
    /// a violation of the case, never a silent skip.
    /// </summary>
    public static List<OutputComparison> CompareOutputs(IReadOnlyList<ExpectedOutput> expected, IReadOnlyDictionary<BatchNormOutput, float[]> actual, in TensorShape shape,
        List<string> violations)
    {
        var comparisons = new List<OutputComparison>();
        foreach (var output in expected)
        {
            if (actual.TryGetValue(output.Name, out float[]? values))
                comparisons.Add(OutputComparison.Compare(output, values, shape));
            else
                violations.Add($"{output.Name.Name()}: the kernel run did not produce this output");
        }

        return comparisons;
    }

    /// <summary>A reduced-precision kernel's data outputs must be values of its format: it stores them in it.</summary>
    private static void RequireFormat(DataPrecision precision, IReadOnlyDictionary<BatchNormOutput, float[]> outputs, List<string> violations)
    {
        if (precision == DataPrecision.Float32)
            return;
        foreach (var (name, values) in outputs.Where(o => o.Key.IsElementwise()).OrderBy(o => o.Key))
        {
            int first = Array.FindIndex(values, v => !DataPrecisions.Holds(v, precision));
            if (first < 0)
                continue;
            int count = values.Count(v => !DataPrecisions.Holds(v, precision));
            violations.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name.Name()}: {count} of {values.Length} values are not {precision.ShortName()} values (first at element {first}: {values[first]:R}); the kernel stores its data tensors in {precision.ShortName()}"));
        }
    }

    private static string? Mistrust(VerificationCase @case, List<OutputComparison> comparisons)
    {
        if (@case.AboutZeros)
            return null;
        var primary = comparisons.FirstOrDefault(o => o.Output.IsElementwise());
        double limit = @case.Options.Activation == Activation.Relu ? MistrustReluZeroFraction : MistrustZeroFraction;
        if (primary is null || primary.ExpectedZeros <= limit * primary.Count)
            return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"{primary.ExpectedZeros} of {primary.Count} expected {primary.Output.Name()} values are exactly 0 (more than {limit:P0}): the case proves little");
    }

    private static int FirstBitDifference(float[] a, float[] b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                return i;
        }

        return -1;
    }
}
