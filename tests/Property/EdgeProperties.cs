using BatchNorm.Harness.Cases;
using BatchNorm.Tests.Property.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.Property;

/// <summary>Properties 4 and 5, in every kernel at every width: non-finite values stay in their channel; M = 1 is exact.</summary>
public class EdgeProperties(ITestOutputHelper output)
{
    [Fact]
    public void ANaNOrInfinityInOneChannelChangesNoOtherChannel()
    {
        var kernels = Checks.EveryKernel();
        PropertyRunner.Check(output, "non-finite-isolation", Generators.NonFiniteInOneChannel(), c =>
        {
            int bad = Array.FindIndex(c.X, v => !float.IsFinite(v));
            int channel = c.Shape.CoordinatesOf(bad).C;
            float[] clean = (float[])c.X.Clone();
            clean[bad] = 0.5f;
            foreach (var kernel in kernels)
            {
                foreach (var pass in Checks.AllPasses)
                {
                    var dirty = Checks.Run(kernel, c, pass).Run;
                    var reference = Checks.Run(kernel, c with { X = clean }, pass).Run;
                    foreach (var (name, values) in dirty.Outputs)
                    {
                        bool perChannel = values.Length == c.Shape.C;
                        for (int i = 0; i < values.Length; i++)
                        {
                            int ofChannel = perChannel ? i : c.Shape.CoordinatesOf(i).C;
                            if (ofChannel != channel)
                                Checks.BitwiseEqual(values.AsSpan(i, 1), reference.Outputs[name].AsSpan(i, 1), $"{kernel.Name} {pass} {name}[{i}] (channel {ofChannel}; the non-finite value is in channel {channel})");
                        }
                    }
                }
            }
        }, maxTest: 30);
    }

    [Fact]
    public void OneValuePerChannelGivesBetaAndZeroDxExactly()
    {
        var kernels = Checks.EveryKernel();
        PropertyRunner.Check(output, "one-value-per-channel", Generators.OneValuePerChannel(), c =>
        {
            if (c.X.Any(v => !float.IsFinite(v)))
                return;   // x - mean is NaN for an infinite x: IEEE, not this property
            foreach (var kernel in kernels)
            {
                var y = Checks.Run(kernel, c, BatchNormPass.ForwardTraining).Run.Outputs[BatchNormOutput.Y];
                for (int ch = 0; ch < c.Shape.C; ch++)
                {
                    float beta = c.Beta.Length == 0 ? 0f : c.Beta[ch];
                    if (y[ch] != beta)
                        throw new LawViolation($"{kernel.Name}: y[{ch}] = {y[ch]:R}, beta = {beta:R}");
                }

                var dx = Checks.Run(kernel, c, BatchNormPass.BackwardTraining).Run.Outputs[BatchNormOutput.Dx];
                if (dx.Any(v => v != 0))
                    throw new LawViolation($"{kernel.Name}: dx = [{string.Join(", ", dx)}], not all zero");
            }
        }, maxTest: 50);
    }
}
