using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Tests.Property.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static BatchNorm.Tests.Property.Infrastructure.Checks;

namespace BatchNorm.Tests.Property;

/// <summary>
/// Property 3 on the optimized kernel, within the tolerance model: where the reference obeys a law
/// exactly, two kernel results it relates may differ by at most the sum of their elements' bounds
/// (each is within its bound of a reference that obeys the law).
/// </summary>
public class OptimizedLawProperties(ITestOutputHelper output)
{
    private static readonly Values[] Finite = [Values.Normal, Values.LargeOffset, Values.Tiny, Values.ConstantChannels, Values.MixedScales];
    private readonly IBatchNormKernel kernel = KernelCatalog.Create("optimized");

    [Fact]
    public void PermutingSamplesPermutesYAndLayoutsAgreeAfterTransposition() =>
        PropertyRunner.Check(output, "optimized-permutation-layouts", Generators.Cases(Finite), c =>
        {
            var shape = c.Shape;
            var (run, expected) = Run(kernel, c, BatchNormPass.ForwardTraining);
            double[] bound = expected.Single(o => o.Name == BatchNormOutput.Y).Bounds;
            int[] order = Enumerable.Range(0, shape.N).Reverse().ToArray();
            var otherLayout = shape.WithLayout(shape.Layout == Layout.ChannelsFirst ? Layout.ChannelsLast : Layout.ChannelsFirst);
            float[] permuted = new float[c.X.Length], dyPermuted = new float[c.X.Length], transposed = new float[c.X.Length], dyTransposed = new float[c.X.Length];
            for (int i = 0; i < c.X.Length; i++)
            {
                var (n, ch, s) = shape.CoordinatesOf(i);
                permuted[shape.IndexOf(order[n], ch, s)] = c.X[i];
                dyPermuted[shape.IndexOf(order[n], ch, s)] = c.Dy[i];
                transposed[otherLayout.IndexOf(n, ch, s)] = c.X[i];
                dyTransposed[otherLayout.IndexOf(n, ch, s)] = c.Dy[i];
            }

            var (p, pExpected) = Run(kernel, c with { X = permuted, Dy = dyPermuted }, BatchNormPass.ForwardTraining);
            var (t, tExpected) = Run(kernel, c with { Shape = otherLayout, X = transposed, Dy = dyTransposed }, BatchNormPass.ForwardTraining);
            double[] pBound = pExpected.Single(o => o.Name == BatchNormOutput.Y).Bounds, tBound = tExpected.Single(o => o.Name == BatchNormOutput.Y).Bounds;
            for (int i = 0; i < c.X.Length; i++)
            {
                var (n, ch, s) = shape.CoordinatesOf(i);
                long pi = shape.IndexOf(order[n], ch, s), ti = otherLayout.IndexOf(n, ch, s);
                Close(p.Outputs[BatchNormOutput.Y][pi], run.Outputs[BatchNormOutput.Y][i], bound[i] + pBound[pi], $"permuting samples permutes y at {i}");
                Close(t.Outputs[BatchNormOutput.Y][ti], run.Outputs[BatchNormOutput.Y][i], bound[i] + tBound[ti], $"layouts agree at {i}");
            }
        }, maxTest: 60);

    [Fact]
    public void EachChannelOfYHasMeanBetaAndDxSumsToZero() =>
        PropertyRunner.Check(output, "optimized-moments", Generators.Cases(Finite), Moments, maxTest: 60);

    /// <summary>Per channel the mean of y is beta and dx sums to the law's value; dy = 0 gives dx = 0 exactly.</summary>
    internal static void Moments(PropertyCase c)
    {
        var kernel = KernelCatalog.Create("optimized");
        {
            var (forward, forwardExpected) = Run(kernel, c, BatchNormPass.ForwardTraining);
            var (backward, backwardExpected) = Run(kernel, c, BatchNormPass.BackwardTraining);
            double[] yBound = forwardExpected.Single(o => o.Name == BatchNormOutput.Y).Bounds;
            var dxExpected = backwardExpected.Single(o => o.Name == BatchNormOutput.Dx);
            for (int ch = 0; ch < c.Shape.C; ch++)
            {
                int[] at = c.Shape.ChannelOffsets(ch).ToArray();
                double beta = c.Beta.Length == 0 ? 0 : c.Beta[ch];
                double meanY = at.Average(i => (double)forward.Outputs[BatchNormOutput.Y][i]);
                Close(meanY, beta, at.Average(i => yBound[i]) + 1e-12 * Math.Abs(beta), $"mean of y is beta in channel {ch}");
                // sum dx = 0 holds for the exact batch mean; the backward is handed the mean rounded to
                // float, under which the reference's own sum is the law's value.
                double sumDx = at.Sum(i => (double)backward.Outputs[BatchNormOutput.Dx][i]), lawValue = at.Sum(i => dxExpected.Values[i]);
                Close(sumDx, lawValue, at.Sum(i => dxExpected.Bounds[i]) + 1e-300, $"sum of dx in channel {ch}");
            }

            var zero = Run(kernel, c with { Dy = new float[c.Dy.Length] }, BatchNormPass.BackwardTraining).Run;
            if (zero.Outputs[BatchNormOutput.Dx].Any(v => v != 0))
                throw new LawViolation("dy = 0 must give dx = 0 exactly");
        }
    }

    [Fact]
    public void ChangingOneChannelChangesNoOtherChannel() =>
        PropertyRunner.Check(output, "optimized-channel-independence", Generators.Cases(Finite), c =>
        {
            float[] changed = (float[])c.X.Clone();
            foreach (int i in c.Shape.ChannelOffsets(0))
                changed[i] = changed[i] * 2 + 1;
            foreach (var pass in AllPasses)
            {
                var a = Run(kernel, c, pass).Run;
                var b = Run(kernel, c with { X = changed }, pass).Run;
                foreach (var (name, values) in a.Outputs)
                {
                    for (int i = 0; i < values.Length; i++)
                    {
                        int ch = values.Length == c.Shape.C ? i : c.Shape.CoordinatesOf(i).C;
                        if (ch != 0)
                            BitwiseEqual(values.AsSpan(i, 1), b.Outputs[name].AsSpan(i, 1), $"{pass} {name}[{i}] changed with channel 0");
                    }
                }
            }
        }, maxTest: 40);
}
