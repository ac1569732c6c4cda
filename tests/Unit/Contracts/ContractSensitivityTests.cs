using System.Globalization;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Kernels.Algorithms;
using BatchNorm.Harness.Verification;
using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.Unit.Contracts;

/// <summary>
/// How small a change each contract's bounds catch, per case family: the sensitivity table of
/// docs/tolerances.md ("Contracts"), printed to the test output, and the two claims it rests on asserted
/// on every case of the quick and full suites.
/// </summary>
public class ContractSensitivityTests(ITestOutputHelper output)
{
    private static readonly BatchNormOutput[] Statistics =
        [BatchNormOutput.BatchMean, BatchNormOutput.BatchVariance, BatchNormOutput.BatchInvStd, BatchNormOutput.RunningMean, BatchNormOutput.RunningVariance];

    private static IEnumerable<VerificationCase> Cases(BatchNormPass pass) =>
        Battery.For(Suite.Full).Concat(Battery.For(Suite.Quick)).DistinctBy(c => c.Name).Where(c => c.Pass == pass);

    /// <summary>
    /// The smallest relative change of one channel's statistic that fails, at the channel where it is largest:
    /// the error may already lean the other way, so it is (bound + |error|) / |value|; 0 where exactness is claimed.
    /// </summary>
    private static double HardestRelativeChange(ExpectedOutput expected, float[] actual)
    {
        double hardest = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]) || actual[i] == 0 || !double.IsFinite(expected.Values[i]))
                continue;
            hardest = Math.Max(hardest, (expected.Bounds[i] + Math.Abs(actual[i] - expected.Values[i])) / Math.Abs(actual[i]));
        }

        return hardest;
    }

    [Fact]
    public void UnderADoubleTwoPassContractAOnePercentErrorInAnyStatisticFailsOnEveryCase()
    {
        var kernel = KernelCatalog.Create("optimized");
        Assert.Equal(NumericalContract.Parse("double/two-pass/centred"), kernel.Contract);
        var worst = new Dictionary<BatchNormOutput, (double Change, string Case)>();
        foreach (var @case in Cases(BatchNormPass.ForwardTraining))
        {
            var inputs = CaseInputs.Draw(@case, Battery.DefaultSeed);
            var run = KernelRun.Execute(kernel, @case, inputs);
            foreach (var expected in ExpectedOutputs.Compute(@case, inputs, kernel.Contract!).Where(e => Statistics.Contains(e.Name)))
            {
                double change = HardestRelativeChange(expected, run.Outputs[expected.Name]);
                if (!worst.TryGetValue(expected.Name, out var w) || change > w.Change)
                    worst[expected.Name] = (change, @case.Name);
            }
        }

        foreach (var (name, (change, caseName)) in worst)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name.Name()}: a relative change of {change:G3} fails everywhere (hardest: {caseName})"));
        Assert.All(worst, w => Assert.True(w.Value.Change < 0.01, $"{w.Key.Name()}: {w.Value.Change:G3} at {w.Value.Case}"));

        // The claim checked by a real change, on the hardest case of the variance: 1% on one channel fails.
        var hardest = Cases(BatchNormPass.ForwardTraining).Single(c => c.Name == worst[BatchNormOutput.BatchVariance].Case);
        var drawn = CaseInputs.Draw(hardest, Battery.DefaultSeed);
        float[] variance = KernelRun.Execute(kernel, hardest, drawn).Outputs[BatchNormOutput.BatchVariance].ToArray();
        int channel = Array.FindIndex(variance, v => v != 0);
        variance[channel] *= 1.01f;
        var expectedVariance = ExpectedOutputs.Compute(hardest, drawn, kernel.Contract!).Single(e => e.Name == BatchNormOutput.BatchVariance);
        Assert.False(OutputComparison.Compare(expectedVariance, variance, hardest.Shape).Passed);
    }

    /// <summary>
    /// One element per channel, the one with the channel's largest |dx|, moved by 16 ULP of it (up, then down) on
    /// every backward-train case of quick and full: every case with M ≥ 3 fails, and all but a handful of channels are
    /// caught on their own. (With M = 2, dx is 0 but for rounding, so its largest |dx| is no scale.) How many ULP each
    /// channel needs there (its element bound over the ULP) is printed: the figures of docs/tolerances.md. 8 ULP is the
    /// median: a sound residual bound is about 4u|dx| plus the fit's worst-case perturbation of the same size.
    /// </summary>
    [Fact]
    public void UnderACentredContractSixteenUlpOfAChannelsLargestDxFailOnEveryCase()
    {
        const int Ulps = 16;
        var kernel = KernelCatalog.Create("optimized");
        int checkedChannels = 0, caughtChannels = 0;
        var needed = new List<double>();
        var missedCases = new List<string>();
        foreach (var @case in Cases(BatchNormPass.BackwardTraining))
        {
            var inputs = CaseInputs.Draw(@case, Battery.DefaultSeed);
            float[] dx = KernelRun.Execute(kernel, @case, inputs).Outputs[BatchNormOutput.Dx];
            var expected = ExpectedOutputs.Compute(@case, inputs, kernel.Contract!).Single(e => e.Name == BatchNormOutput.Dx);
            double[] bounds = OutputComparison.ElementBounds(expected, dx, @case.Shape);
            foreach (int sign in new[] { 1, -1 })
            {
                float[] changed = dx.ToArray();
                int moved = 0;
                for (int c = 0; c < @case.Shape.C; c++)
                {
                    int[] at = [.. @case.Shape.ChannelOffsets(c).Where(i => double.IsFinite(bounds[i]) && float.IsFinite(dx[i]))];
                    if (at.Length == 0 || at.All(i => dx[i] == 0))
                        continue;
                    int largest = at.MaxBy(i => MathF.Abs(dx[i]));
                    float ulp = MathF.BitIncrement(MathF.Abs(dx[largest])) - MathF.Abs(dx[largest]);
                    changed[largest] = dx[largest] + (sign * Ulps * ulp);
                    moved++;
                    if (sign == 1)
                        needed.Add(bounds[largest] / ulp);
                }

                if (moved == 0)
                    continue;   // dx is 0 throughout (M = 1, dy = 0): exactness, which any change fails
                var comparison = OutputComparison.Compare(expected, changed, @case.Shape);
                if (comparison.Passed && @case.Shape.M >= 3)
                    missedCases.Add(@case.Name);
                checkedChannels += moved;
                caughtChannels += Math.Min(moved, comparison.OverBound);
            }
        }

        needed.Sort();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{checkedChannels} channel changes of {Ulps} ULP, {caughtChannels} channels caught on their own; ULP needed at the largest |dx|: median {needed[needed.Count / 2]:G3}, 95th percentile {needed[needed.Count * 95 / 100]:G3}, max {needed[^1]:G3}"));
        Assert.Empty(missedCases);
        Assert.True(checkedChannels > 1000);
        Assert.True(caughtChannels > checkedChannels * 99 / 100);
    }

    /// <summary>The table: per contract (each judged on a kernel correct for it) and case family, the hardest change that still fails.</summary>
    [Fact]
    public void TheSensitivityTable()
    {
        string[] contracts = ["double/two-pass/centred", "float-pairwise/two-pass/centred", "float-lanes:8/two-pass/folded-fma", "float-blocked:64/welford/folded-fma", "float-pairwise/rounded-centre/folded"];
        output.WriteLine("| contract | family | mean | variance | istd | y (ULP of the channel's max) |");
        output.WriteLine("|---|---|---|---|---|---|");
        var all = new Dictionary<string, double>();
        foreach (string text in contracts)
        {
            var contract = NumericalContract.Parse(text);
            IBatchNormKernel kernel = text == "double/two-pass/centred" ? KernelCatalog.Create("optimized") : new AlgorithmKernel(contract);
            foreach (var family in Cases(BatchNormPass.ForwardTraining).GroupBy(c => Family(c.Name)).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                double mean = 0, variance = 0, istd = 0, y = 0;
                foreach (var @case in family)
                {
                    var inputs = CaseInputs.Draw(@case, Battery.DefaultSeed);
                    var run = KernelRun.Execute(kernel, @case, inputs);
                    foreach (var expected in ExpectedOutputs.Compute(@case, inputs, contract))
                    {
                        float[] actual = run.Outputs[expected.Name];
                        if (expected.Name == BatchNormOutput.BatchMean)
                            mean = Math.Max(mean, HardestRelativeChange(expected, actual));
                        else if (expected.Name == BatchNormOutput.BatchVariance)
                            variance = Math.Max(variance, HardestRelativeChange(expected, actual));
                        else if (expected.Name == BatchNormOutput.BatchInvStd)
                            istd = Math.Max(istd, HardestRelativeChange(expected, actual));
                        else if (expected.Name == BatchNormOutput.Y)
                            y = Math.Max(y, HardestUlps(expected, actual, @case.Shape));
                    }
                }

                all[$"{text} {family.Key}"] = variance;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {text} | {family.Key} | {mean:G2} | {variance:G2} | {istd:G2} | {y:G3} |"));
            }
        }

        // The table is worth printing only if the contracts differ where they should: the double contract's large-mean variance is far tighter.
        Assert.True(all["double/two-pass/centred large mean"] * 100 < all["float-pairwise/rounded-centre/folded large mean"]);
    }

    /// <summary>The ULPs of the channel's largest |y| an element must move to fail at the channel's widest bound, hardest channel.</summary>
    private static double HardestUlps(ExpectedOutput expected, float[] actual, in TensorShape shape)
    {
        double[] bounds = OutputComparison.ElementBounds(expected, actual, shape);
        double hardest = 0;
        for (int c = 0; c < shape.C; c++)
        {
            int[] at = [.. shape.ChannelOffsets(c).Where(i => double.IsFinite(bounds[i]) && float.IsFinite(actual[i]))];
            if (at.Length == 0)
                continue;
            float largest = at.Max(i => MathF.Abs(actual[i]));
            if (largest == 0)
                continue;
            hardest = Math.Max(hardest, at.Max(i => bounds[i]) / (MathF.BitIncrement(largest) - largest));
        }

        return hardest;
    }

    private static string Family(string name) =>
        name.StartsWith("large-mean", StringComparison.Ordinal) ? "large mean"
        : name.StartsWith("c1-large-m", StringComparison.Ordinal) || name.StartsWith("long-channel", StringComparison.Ordinal) ? "long channels"
        : name.StartsWith("constant-channel", StringComparison.Ordinal) || name.StartsWith("m1", StringComparison.Ordinal) ? "zero variance"
        : name.StartsWith("m-tail-", StringComparison.Ordinal) || name.StartsWith("n1", StringComparison.Ordinal) ? "tiny M"
        : name.StartsWith("large-", StringComparison.Ordinal) || name.StartsWith("subnormal", StringComparison.Ordinal) || name.Contains("channel", StringComparison.Ordinal) ? "extreme values"
        : "ordinary";
}
