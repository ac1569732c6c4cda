using System.Globalization;
using System.Text;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Reports;

namespace BatchNorm.Tests.Snapshots;

/// <summary>
/// A snapshot: a header naming case, shape, layout, seed and mode, then per output one line per
/// element with the reference (double, round-trip), the kernel's float32 value (round-trip) and
/// its exact bits in hex. No trailing newline (Shouldly's approved files have none).
/// </summary>
internal static class SnapshotText
{
    public static string Render(VerificationCase @case, string kernel, CaseInputs inputs, IReadOnlyDictionary<BatchNormOutput, float[]> actual)
    {
        var text = new StringBuilder();
        text.AppendLine($"case: {@case.Name}");
        text.AppendLine($"shape: {@case.Shape}");
        text.AppendLine(CultureInfo.InvariantCulture, $"seed: {SnapshotCases.Seed} (case seed {@case.SeedFor(SnapshotCases.Seed)})");
        text.AppendLine(CultureInfo.InvariantCulture, $"mode: {@case.Pass}, {@case.Options.Convention}, eps {@case.Options.Epsilon:R}, momentum {@case.Options.Momentum:R}");
        text.AppendLine($"kernel: {kernel} (bitwise the same with 1 and 2 threads)");
        foreach (var expected in ExpectedOutputs.Compute(@case, inputs, NumericalContract.Default))
        {
            float[] values = actual[expected.Name];
            text.AppendLine();
            var comparison = OutputComparison.Compare(expected, values, @case.Shape);
            text.AppendLine(CultureInfo.InvariantCulture, $"== {expected.Name.Name()} ({values.Length})");
            string parts = comparison.SystematicRatio is null ? ""
                : $", systematic {ReportFormat.Optional(comparison.SystematicRatio)}, residual {ReportFormat.Optional(comparison.ResidualRatio)}";
            text.AppendLine(CultureInfo.InvariantCulture, $"headroom {ReportFormat.Short(comparison.WorstRatio)}{parts}, {(comparison.Passed ? "passed" : "FAILED")}");
            text.AppendLine("index  location         reference (double)        kernel (float32)  bits");
            for (int i = 0; i < values.Length; i++)
            {
                string location = expected.PerChannel ? $"(c={i})" : Location(@case.Shape, i);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{i,-6} {location,-16} {expected.Values[i].ToString("R", CultureInfo.InvariantCulture),-25} {values[i].ToString("R", CultureInfo.InvariantCulture),-17} 0x{BitConverter.SingleToUInt32Bits(values[i]):X8}");
            }
        }

        return text.ToString().TrimEnd('\n');
    }

    private static string Location(TensorShape shape, int i)
    {
        var (n, c, s) = shape.CoordinatesOf(i);
        return $"({n}, {c}, {s})";
    }
}
