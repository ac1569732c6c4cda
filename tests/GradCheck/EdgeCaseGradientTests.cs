using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.GradCheck;

/// <summary>Gradients at the edges: M = 1, a constant channel, a large offset, tiny eps, gamma = 0.</summary>
public class EdgeCaseGradientTests(ITestOutputHelper output)
{
    [Fact]
    public void OneValuePerChannelGivesZeroDxAndDgammaAndDbetaEqualToDyExactly()
    {
        var problem = Problem.Random(new TensorShape(1, 7, 1, Layout.ChannelsLast), BatchNormOptions.PyTorch, training: true, seed: 1);
        double[] dy = [0.5, -1, 2, 3, -4, 1e-3, 7];
        var g = Backwards.Reference(problem, dy);
        Assert.All(g.Dx, v => Assert.Equal(0.0, v));
        Assert.All(g.DGamma, v => Assert.Equal(0.0, v));
        Assert.Equal(dy, g.DBeta);
        AssertJacobian(problem);
    }

    [Fact]
    public void AConstantChannelGivesGammaOverSqrtEpsTimesCenteredDy()
    {
        var problem = Problem.Random(new TensorShape(6, 2, 3, Layout.ChannelsFirst), BatchNormOptions.PyTorch, training: true, seed: 2);
        foreach (int i in problem.Shape.ChannelOffsets(1))
            problem.X[i] = 0.75;
        double[] dy = Enumerable.Range(0, problem.X.Length).Select(i => Math.Cos(i)).ToArray();
        var g = Backwards.Reference(problem, dy);
        double meanDy = problem.Shape.ChannelOffsets(1).Average(i => dy[i]);
        foreach (int i in problem.Shape.ChannelOffsets(1))
        {
            double expected = problem.Gamma[1] / Math.Sqrt(problem.Options.Epsilon) * (dy[i] - meanDy);
            Assert.True(Math.Abs(g.Dx[i] - expected) <= 1e-12 * Math.Abs(expected) + 1e-12, $"dx[{i}] = {g.Dx[i]:R}, expected {expected:R}");
        }

        AssertJacobian(problem);
    }

    [Fact]
    public void LargeOffsetWithSmallSpread() =>
        AssertJacobian(Problem.Random(new TensorShape(5, 3, 4, Layout.ChannelsLast), BatchNormOptions.PyTorch, training: true, seed: 3, offset: 1e4, spread: 1e-2));

    [Fact]
    public void TinyEpsilon() =>
        AssertJacobian(Problem.Random(new TensorShape(5, 3, 4, Layout.ChannelsFirst), BatchNormOptions.PyTorch with { Epsilon = 1e-8 }, training: true, seed: 4));

    [Fact]
    public void GammaZeroGivesZeroDx()
    {
        var problem = Problem.Random(new TensorShape(5, 3, 4, Layout.ChannelsFirst), BatchNormOptions.PyTorch, training: true, seed: 5);
        Array.Clear(problem.Gamma);
        var g = Backwards.Reference(problem, Enumerable.Range(0, 60).Select(i => (double)i).ToArray());
        Assert.All(g.Dx, v => Assert.Equal(0.0, Math.Abs(v)));
        AssertJacobian(problem);
    }

    [Fact]
    public void ZeroCotangentGivesZeroGradientsExactly()
    {
        var problem = Problem.Random(new TensorShape(5, 3, 4, Layout.ChannelsFirst), BatchNormOptions.PyTorch, training: true, seed: 6);
        var g = Backwards.Reference(problem, new double[60]);
        Assert.All(g.Dx.Concat(g.DGamma).Concat(g.DBeta), v => Assert.Equal(0.0, Math.Abs(v)));
    }

    private void AssertJacobian(Problem problem)
    {
        foreach (var report in GradientCheck.FullJacobian(problem, Backwards.Reference))
        {
            output.WriteLine(report.ToString());
            Assert.True(report.Passed, report.ToString());
        }
    }
}
