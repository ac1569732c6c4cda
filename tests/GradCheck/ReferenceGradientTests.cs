using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.GradCheck;

/// <summary>The reference backward passes against finite differences of the reference forward.</summary>
public class ReferenceGradientTests(ITestOutputHelper output)
{
    public static TheoryData<Layout, RunningStatsConvention, bool, bool, int, int, int> FullJacobianCases()
    {
        var data = new TheoryData<Layout, RunningStatsConvention, bool, bool, int, int, int>();
        foreach (var layout in new[] { Layout.ChannelsFirst, Layout.ChannelsLast })
        {
            foreach (var convention in Enum.GetValues<RunningStatsConvention>())
            {
                foreach (bool training in new[] { true, false })
                {
                    foreach (bool affine in new[] { true, false })
                        data.Add(layout, convention, training, affine, 4, 3, 5);
                }
            }

            data.Add(layout, RunningStatsConvention.PyTorch, true, true, 2, 4, 25);    // M*C = 200
            data.Add(layout, RunningStatsConvention.PyTorch, true, true, 20, 10, 1);   // dense
            data.Add(layout, RunningStatsConvention.Keras, false, true, 2, 4, 25);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FullJacobianCases))]
    public void TheFullJacobianMatchesFiniteDifferences(Layout layout, RunningStatsConvention convention, bool training, bool affine, int n, int c, int s)
    {
        var problem = Problem.Random(new TensorShape(n, c, s, layout), BatchNormOptions.For(convention), training, seed: n * 31 + c * 7 + s, affine);
        var reports = GradientCheck.FullJacobian(problem, Backwards.Reference);
        foreach (var report in reports)
        {
            output.WriteLine(report.ToString());
            Assert.True(report.Passed, report.ToString());
        }

        Assert.Equal(affine ? 3 : 1, reports.Count);
    }

    [Theory]
    [InlineData(Layout.ChannelsFirst, true)]
    [InlineData(Layout.ChannelsLast, true)]
    [InlineData(Layout.ChannelsFirst, false)]
    [InlineData(Layout.ChannelsLast, false)]
    public void RandomProjectionsMatchOnLargerShapes(Layout layout, bool training)
    {
        foreach (var (n, c, s) in new[] { (16, 32, 49), (64, 50, 1), (3, 2, 4000) })
        {
            var problem = Problem.Random(new TensorShape(n, c, s, layout), BatchNormOptions.PyTorch, training, seed: c);
            var report = GradientCheck.Projections(problem, Backwards.Reference, seeds: 5);
            output.WriteLine($"{n}x{c}x{s}: {report}");
            Assert.True(report.Passed, report.ToString());
        }
    }
}
