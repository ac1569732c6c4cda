using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.GradCheck;

/// <summary>The check can fail: each known mistake in a backward pass is rejected, naming the output and the worst element.</summary>
public class FaultyBackwardTests(ITestOutputHelper output)
{
    public static TheoryData<string> Mistakes() => new(["without mean(dy)", "without xhat term", "inference formula in training"]);

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void EachMistakeIsRejectedByTheFullJacobian(string mistake)
    {
        var problem = Problem.Random(new TensorShape(4, 3, 5, Layout.ChannelsFirst), BatchNormOptions.PyTorch, training: true, seed: 9);
        var dx = GradientCheck.FullJacobian(problem, Pick(mistake)).Single(r => r.Output == "dx");
        output.WriteLine(dx.ToString());
        Assert.False(dx.Passed);
        Assert.StartsWith("dx: ", dx.ToString());
        Assert.Contains("d y(n=", dx.Worst);
        Assert.Contains("/ d x(n=", dx.Worst);
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void EachMistakeIsRejectedByRandomProjections(string mistake)
    {
        var problem = Problem.Random(new TensorShape(16, 8, 49, Layout.ChannelsLast), BatchNormOptions.PyTorch, training: true, seed: 10);
        var report = GradientCheck.Projections(problem, Pick(mistake), seeds: 3);
        output.WriteLine(report.ToString());
        Assert.False(report.Passed);
    }

    private static BackwardPass Pick(string mistake) => mistake switch
    {
        "without mean(dy)" => Backwards.WithoutMeanDy,
        "without xhat term" => Backwards.WithoutXhatTerm,
        _ => Backwards.InferenceFormulaInTraining,
    };
}
