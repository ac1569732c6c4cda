using BatchNorm.Reference;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The reference against values worked out by hand from the formulas, not by the code under test.
/// Expected values that are not exact in binary (decimal literals, square roots) are compared to
/// within a few units of 2^-53; exact ones with equality, where exactness is the claim.
/// </summary>
public class ReferenceHandComputedTests
{
    private const double Tight = 1e-15;

    // Dense (N, C) = (2, 3): rows are samples. Channel 0 holds 1, 3 (mean 2, var 1);
    // channel 1 holds 2, 6 (mean 4, var 4); channel 2 holds 3, -1 (mean 1, var 4).
    private static readonly double[] Dense = [1, 2, 3, 3, 6, -1];
    private static readonly double[] DenseGamma = [2, 0.5, -1];
    private static readonly double[] DenseBeta = [0.5, -1, 3];

    [Fact]
    public void DenseForwardTrainingMatchesHandComputation()
    {
        var shape = new TensorShape(2, 3, 1, Layout.ChannelsFirst);
        var options = new BatchNormOptions(RunningStatsConvention.Keras, Epsilon: 0.25, Momentum: 0.99);
        var run = RunTraining(shape, options, Dense, DenseGamma, DenseBeta);

        Assert.Equal([2.0, 4.0, 1.0], run.Mean);        // exact: sums of small integers halved
        Assert.Equal([1.0, 4.0, 4.0], run.Variance);
        double i0 = 1 / Math.Sqrt(1.25), i12 = 1 / Math.Sqrt(4.25);
        AssertClose([i0, i12, i12], run.InvStd);
        double[] expected =
        [
            2 * (-1 * i0) + 0.5, 0.5 * (-2 * i12) - 1, -1 * (2 * i12) + 3,
            2 * (1 * i0) + 0.5, 0.5 * (2 * i12) - 1, -1 * (-2 * i12) + 3,
        ];
        AssertClose(expected, run.Y);
    }

    [Fact]
    public void FourDimensionalCaseAgreesInBothLayouts()
    {
        // N=2, C=2, S=2 in channels-first order: n0c0 = [1, 2], n0c1 = [10, 10], n1c0 = [3, 6], n1c1 = [10, 14].
        // Channel 0: 1, 2, 3, 6 -> mean 3, deviations -2, -1, 0, 3, var 14/4 = 3.5.
        // Channel 1: 10, 10, 10, 14 -> mean 11, deviations -1, -1, -1, 3, var 12/4 = 3.
        double[] nchw = [1, 2, 10, 10, 3, 6, 10, 14];
        double[] nhwc = [1, 10, 2, 10, 3, 10, 6, 14];
        var options = new BatchNormOptions(RunningStatsConvention.Onnx, Epsilon: 0.5, Momentum: 0.9);
        var first = RunTraining(new TensorShape(2, 2, 2, Layout.ChannelsFirst), options, nchw, [], []);
        var last = RunTraining(new TensorShape(2, 2, 2, Layout.ChannelsLast), options, nhwc, [], []);

        Assert.Equal([3.0, 11.0], first.Mean);
        Assert.Equal([3.5, 3.0], first.Variance);
        Assert.Equal([0.5, 1 / Math.Sqrt(3.5)], first.InvStd);   // var + eps = 4 for channel 0: exact
        double i1 = 1 / Math.Sqrt(3.5);
        AssertClose([-1, -0.5, -i1, -i1, 0, 1.5, -i1, 3 * i1], first.Y);
        Assert.Equal(first.Mean, last.Mean);
        Assert.Equal(first.Variance, last.Variance);
        // Same values in the same order of summation: the layouts agree bit for bit after transposition.
        Assert.Equal([first.Y[0], first.Y[2], first.Y[1], first.Y[3], first.Y[4], first.Y[6], first.Y[5], first.Y[7]], last.Y);
    }

    [Theory]
    // Two steps from running mean 0, variance 1, on the dense case (batch mean [2, 4, 1],
    // biased var [1, 4, 4], unbiased var [2, 8, 8] with M = 2), each worked by hand:
    // PyTorch (m=0.1): rm = 0.1*mean, then 0.9*rm + 0.1*mean; rv = 0.9 + 0.1*unbiased, then 0.9*rv + 0.1*unbiased.
    [InlineData(RunningStatsConvention.PyTorch, 0.1, new[] { 0.38, 0.76, 0.19 }, new[] { 1.19, 2.33, 2.33 })]
    // Keras (m=0.99): rm = 0.01*mean, then 0.99*rm + 0.01*mean; rv = 0.99 + 0.01*biased, twice.
    [InlineData(RunningStatsConvention.Keras, 0.99, new[] { 0.0398, 0.0796, 0.0199 }, new[] { 1.0, 1.0597, 1.0597 })]
    // ONNX (m=0.9): as Keras with 0.9, biased variance.
    [InlineData(RunningStatsConvention.Onnx, 0.9, new[] { 0.38, 0.76, 0.19 }, new[] { 1.0, 1.57, 1.57 })]
    public void RunningStatisticsFollowEachConventionOverTwoSteps(RunningStatsConvention convention, double momentum, double[] mean2, double[] var2)
    {
        var shape = new TensorShape(2, 3, 1, Layout.ChannelsLast);
        var options = new BatchNormOptions(convention, 1e-5, momentum);
        double[] runMean = [0, 0, 0], runVar = [1, 1, 1];
        RunTraining(shape, options, Dense, [], [], runMean, runVar);
        RunTraining(shape, options, Dense, [], [], runMean, runVar);
        AssertClose(mean2, runMean, 4e-16 * 8);
        AssertClose(var2, runVar, 4e-16 * 8);
    }

    [Fact]
    public void InferenceIsTheAffineMapOfTheRunningStatistics()
    {
        var shape = new TensorShape(2, 3, 1, Layout.ChannelsFirst);
        double[] runMean = [1, -2, 0.5], runVar = [3.75, 0.75, 15.75];   // + eps 0.25 = 4, 1, 16
        double[] y = new double[6];
        ReferenceBatchNorm.ForwardInference(shape, new BatchNormOptions(RunningStatsConvention.Onnx, 0.25, 0.9),
            new ForwardInferenceTensors<double> { X = Dense, Gamma = DenseGamma, Beta = DenseBeta, RunningMean = runMean, RunningVariance = runVar, Y = y });
        // Every step is exact: invStd = 1/2, 1, 1/4.
        Assert.Equal([2 * 0 * 0.5 + 0.5, 0.5 * 4 * 1 - 1, -1 * 2.5 * 0.25 + 3, 2 * 2 * 0.5 + 0.5, 0.5 * 8 * 1 - 1, -1 * -1.5 * 0.25 + 3], y);
    }

    [Fact]
    public void DenseBackwardTrainingMatchesHandDerivation()
    {
        // With M = 2 and values mean +- sigma, xhat = -+ sigma*i and the formula reduces to
        // dx_0 = gamma * i / 2 * (dy_0 - dy_1) * (1 - sigma^2 i^2), dx_1 = -dx_0,
        // dbeta = dy_0 + dy_1, dgamma = sign_0 * (dy_0 - dy_1) * sigma * i, where sample 0 sits at mean + sign_0 * sigma
        // (i = 1/sqrt(sigma^2 + eps)).
        var shape = new TensorShape(2, 3, 1, Layout.ChannelsFirst);
        const double eps = 0.25;
        double[] dy = [0.5, -1, 2, 1.5, 3, -4];
        var forward = RunTraining(shape, new BatchNormOptions(RunningStatsConvention.Keras, eps, 0.9), Dense, DenseGamma, DenseBeta);
        var (dx, dgamma, dbeta) = RunBackward(shape, Dense, dy, DenseGamma, forward);

        double[] sigma = [1, 2, 2], sign = [-1, -1, 1];   // sign of sample 0's deviation per channel
        for (int c = 0; c < 3; c++)
        {
            double i = 1 / Math.Sqrt(sigma[c] * sigma[c] + eps);
            double dy0 = dy[c], dy1 = dy[3 + c];
            double dx0 = DenseGamma[c] * i / 2 * (dy0 - dy1) * (1 - sigma[c] * sigma[c] * i * i);
            AssertClose([dx0, -dx0], [dx[c], dx[3 + c]], 1e-14);
            Assert.Equal(dy0 + dy1, dbeta[c]);
            AssertClose([sign[c] * (dy0 - dy1) * sigma[c] * i], [dgamma[c]]);
        }
    }

    [Fact]
    public void InferenceBackwardScalesDyByGammaOverStd()
    {
        var shape = new TensorShape(2, 3, 1, Layout.ChannelsFirst);
        double[] runMean = [1, -2, 0.5], runVar = [3.75, 0.75, 15.75], dy = [1, 2, 3, 4, 5, 6];
        double[] dx = new double[6], dgamma = new double[3], dbeta = new double[3];
        ReferenceBatchNorm.BackwardInference(shape, new BatchNormOptions(RunningStatsConvention.Onnx, 0.25, 0.9), new BackwardInferenceTensors<double>
        {
            X = Dense,
            Dy = dy,
            Gamma = DenseGamma,
            RunningMean = runMean,
            RunningVariance = runVar,
            Dx = dx,
            DGamma = dgamma,
            DBeta = dbeta,
        });
        Assert.Equal([2 * 1 * 0.5, 0.5 * 2 * 1, -1 * 3 * 0.25, 2 * 4 * 0.5, 0.5 * 5 * 1, -1 * 6 * 0.25], dx);
        Assert.Equal([5.0, 7.0, 9.0], dbeta);
        // xhat = (x - rm) * i: channel 0: 0, 1; channel 1: 4, 8; channel 2: 0.625, -0.375.
        Assert.Equal([1 * 0 + 4 * 1.0, 2 * 4 + 5 * 8.0, 3 * 0.625 + 6 * -0.375], dgamma);
    }

    [Fact]
    public void OneValuePerChannelGivesBetaAndZeroGradients()
    {
        var shape = new TensorShape(1, 5, 1, Layout.ChannelsLast);
        double[] x = [3, -7.5, 1e30, 0, 2], gamma = [1, 2, 3, 4, 5], beta = [0.1, 0.2, 0.3, 0.4, 0.5];
        double[] runMean = [0, 0, 0, 0, 0], runVar = [1, 1, 1, 1, 1];
        var run = RunTraining(shape, BatchNormOptions.For(RunningStatsConvention.Keras), x, gamma, beta, runMean, runVar);
        Assert.Equal(beta, run.Y);               // exact: xhat = 0 * invStd
        Assert.Equal(x, run.Mean);
        Assert.Equal(new double[5], run.Variance);
        Assert.Equal([0.99, 0.99, 0.99, 0.99, 0.99], runVar);   // Keras: biased, 0.99*1 + 0.01*0

        double[] dy = [1, -2, 3, -4, 5];

        var (dx, dgamma, dbeta) = RunBackward(shape, x, dy, gamma, run);
        Assert.Equal(new double[5], dx);
        Assert.Equal(new double[5], dgamma);
        Assert.Equal(dy, dbeta);
    }

    [Fact]
    public void ConstantChannelGivesBetaAndTheEpsilonGradient()
    {
        // Channel 1 is constant (0.1f widened, so M copies sum exactly); channel 0 is not.
        var shape = new TensorShape(4, 2, 1, Layout.ChannelsLast);
        double v = 0.1f;
        double[] x = [1, v, 2, v, 3, v, 5, v], gamma = [1, -3], beta = [0, 0.75];
        const double eps = 1e-5;
        var run = RunTraining(shape, new BatchNormOptions(RunningStatsConvention.Onnx, eps, 0.9), x, gamma, beta);
        Assert.Equal(0.0, run.Variance[1]);
        for (int n = 0; n < 4; n++)
            Assert.Equal(0.75, run.Y[2 * n + 1]);

        double[] dy = [0, 1, 0, -2, 0, 4, 0, 5];

        var (dx, dgamma, dbeta) = RunBackward(shape, x, dy, gamma, run);
        double meanDy = (1 - 2 + 4 + 5) / 4.0;
        for (int n = 0; n < 4; n++)
            AssertClose([-3 / Math.Sqrt(eps) * (dy[2 * n + 1] - meanDy)], [dx[2 * n + 1]], 1e-14);
    }

    [Fact]
    public void NaNAndInfinityStayInTheirChannel()
    {
        var shape = new TensorShape(3, 3, 2, Layout.ChannelsFirst);
        double[] clean = Enumerable.Range(0, shape.ElementCount).Select(i => Math.Sin(i) * 3).ToArray();
        var baseline = RunTraining(shape, BatchNormOptions.PyTorch, clean, [], []);
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity })
        {
            double[] dirty = (double[])clean.Clone();
            dirty[shape.IndexOf(1, 1, 0)] = bad;
            var run = RunTraining(shape, BatchNormOptions.PyTorch, dirty, [], []);
            foreach (int c in new[] { 0, 2 })
            {
                foreach (int i in shape.ChannelOffsets(c))
                    Assert.Equal(baseline.Y[i], run.Y[i]);
                Assert.Equal(baseline.Mean[c], run.Mean[c]);
            }

            Assert.All(shape.ChannelOffsets(1), i => Assert.True(double.IsNaN(run.Y[i])));
        }
    }

    internal sealed record TrainingRun(double[] Y, double[] Mean, double[] Variance, double[] InvStd);

    internal static TrainingRun RunTraining(in TensorShape shape, BatchNormOptions options, double[] x, double[] gamma, double[] beta,
        double[]? runMean = null, double[]? runVar = null)
    {
        var run = new TrainingRun(new double[shape.ElementCount], new double[shape.C], new double[shape.C], new double[shape.C]);
        ReferenceBatchNorm.ForwardTraining(shape, options, new ForwardTrainingTensors<double>
        {
            X = x,
            Gamma = gamma,
            Beta = beta,
            Y = run.Y,
            BatchMean = run.Mean,
            BatchVariance = run.Variance,
            BatchInvStd = run.InvStd,
            RunningMean = runMean,
            RunningVariance = runVar,
        });
        return run;
    }

    /// <summary>The reference's training backward with the statistics a forward run saved.</summary>
    internal static (double[] Dx, double[] DGamma, double[] DBeta) RunBackward(in TensorShape shape, double[] x, double[] dy, double[] gamma, TrainingRun forward)
    {
        double[] dx = new double[x.Length], dgamma = new double[shape.C], dbeta = new double[shape.C];
        ReferenceBatchNorm.BackwardTraining(shape, new BackwardTrainingTensors<double>
        {
            X = x,
            Dy = dy,
            Gamma = gamma,
            SavedMean = forward.Mean,
            SavedInvStd = forward.InvStd,
            Dx = dx,
            DGamma = dgamma,
            DBeta = dbeta,
        });
        return (dx, dgamma, dbeta);
    }

    internal static void AssertClose(double[] expected, double[] actual, double relative = Tight)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = relative * Math.Max(Math.Abs(expected[i]), 1e-300);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound,
                FormattableString.Invariant($"element {i}: expected {expected[i]:R}, got {actual[i]:R} (bound {bound:R})"));
        }
    }
}
