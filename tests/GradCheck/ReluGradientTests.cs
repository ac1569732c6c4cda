using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.GradCheck;

/// <summary>
/// The fused-ReLU backward (dy gated by the forward's y &gt; 0) against finite differences of the
/// fused forward. ReLU has a kink at 0, where a finite difference straddling it is meaningless, so
/// each problem first shows that no pre-activation value lies within a margin of 0 far wider than
/// any step the check takes.
/// </summary>
public class ReluGradientTests(ITestOutputHelper output)
{
    private static readonly BatchNormOptions Relu = BatchNormOptions.PyTorch with { Activation = Activation.Relu };

    public static TheoryData<Layout, bool, int> Problems() => new()
    {
        { Layout.ChannelsFirst, true, 1 },
        { Layout.ChannelsLast, true, 2 },
        { Layout.ChannelsFirst, false, 3 },
        { Layout.ChannelsLast, false, 4 },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void TheFullJacobianMatchesFiniteDifferences(Layout layout, bool training, int seed)
    {
        var problem = AwayFromTheKink(new TensorShape(4, 3, 5, layout), training, seed);
        foreach (var report in GradientCheck.FullJacobian(problem, Backwards.Reference))
        {
            output.WriteLine(report.ToString());
            Assert.True(report.Passed, report.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void ABackwardThatIgnoresTheGateIsRejected(Layout layout, bool training, int seed)
    {
        var problem = AwayFromTheKink(new TensorShape(4, 3, 5, layout), training, seed);
        var dx = GradientCheck.FullJacobian(problem, Backwards.ReluGateIgnored).Single(r => r.Output == "dx");
        output.WriteLine(dx.ToString());
        Assert.False(dx.Passed);
    }

    /// <summary>
    /// A random problem under fused ReLU, asserting that every pre-activation value is at least
    /// 0.01 from the kink (the steps are far smaller) and that ReLU clamps some but not all values.
    /// </summary>
    private static Problem AwayFromTheKink(TensorShape shape, bool training, int seed)
    {
        var problem = Problem.Random(shape, Relu, training, seed);
        var plain = problem with { Options = BatchNormOptions.PyTorch };
        double[] preActivation = plain.Forward(plain.X, plain.Gamma, plain.Beta);
        Assert.True(preActivation.Min(Math.Abs) > 0.01, $"seed {seed} puts a value {preActivation.Min(Math.Abs)} from ReLU's kink");
        Assert.InRange(preActivation.Count(v => v < 0), 1, preActivation.Length - 1);
        return problem;
    }
}
