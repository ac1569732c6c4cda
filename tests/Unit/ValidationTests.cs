using BatchNorm.Reference;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// Every argument rule: the exception names the argument, and nothing is written (outputs and
/// running statistics keep their sentinel values).
/// </summary>
public class ValidationTests
{
    private const double Sentinel = -12345.5;
    private static readonly TensorShape Shape = new(2, 3, 1, Layout.ChannelsFirst);

    [Theory]
    [InlineData(0, 1, 1, "n")]
    [InlineData(1, -1, 1, "c")]
    [InlineData(1, 1, 0, "s")]
    [InlineData(65536, 65536, 1, "n")]   // 2^32 elements: more than a span holds
    public void ShapeRejectsNonPositiveAndOverflowingSizes(int n, int c, int s, string argument)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new TensorShape(n, c, s, Layout.ChannelsFirst));
        Assert.Equal(argument, error.ParamName);
    }

    public static TheoryData<string, string> TrainingCases => new()
    {
        { "x length", "x" }, { "y length", "y" }, { "gamma length", "gamma" }, { "beta length", "beta" },
        { "mean length", "batchMean" }, { "variance length", "batchVariance" }, { "invstd length", "batchInvStd" },
        { "running mean alone", "runningVariance" }, { "running variance negative", "runningVariance" },
        { "eps zero", "options.Epsilon" }, { "eps negative", "options.Epsilon" }, { "eps NaN", "options.Epsilon" },
        { "eps infinite", "options.Epsilon" }, { "momentum above 1", "options.Momentum" }, { "momentum negative", "options.Momentum" },
        { "momentum NaN", "options.Momentum" }, { "y overlaps gamma", "y" }, { "y shifted over x", "y" },
        { "mean overlaps variance", "batchMean" }, { "unbiased with M = 1", "x" },
    };

    [Theory]
    [MemberData(nameof(TrainingCases))]
    public void TrainingForwardRejectsAndWritesNothing(string rule, string argument)
    {
        var shape = rule == "unbiased with M = 1" ? new TensorShape(1, 3, 1, Layout.ChannelsFirst) : Shape;
        double[] x = Filled(shape.ElementCount + 3, 1.5), gamma = Filled(3, 1), beta = Filled(3, 0);
        double[] y = Filled(shape.ElementCount + 3, Sentinel), mean = Filled(6, Sentinel), variance = Filled(3, Sentinel), invStd = Filled(3, Sentinel);
        double[] runMean = Filled(3, Sentinel), runVar = Filled(3, 7.25);   // a variance sentinel must itself be valid
        var options = BatchNormOptions.PyTorch;
        int count = shape.ElementCount;
        Span<double> xs = x.AsSpan(0, count), ys = y.AsSpan(0, count), gs = gamma, bs = beta, ms = mean.AsSpan(0, 3), vs = variance, ss = invStd;
        Span<double> rm = runMean, rv = runVar;
        switch (rule)
        {
            case "x length": xs = x.AsSpan(0, count - 1); break;
            case "y length": ys = y.AsSpan(0, count + 1); break;
            case "gamma length": gs = gamma.AsSpan(0, 2); break;
            case "beta length": bs = new double[4]; break;
            case "mean length": ms = mean.AsSpan(0, 2); break;
            case "variance length": vs = variance.AsSpan(0, 2); break;
            case "invstd length": ss = new double[5]; break;
            case "running mean alone": rv = []; break;
            case "running variance negative": runVar[2] = -1e-30; break;
            case "eps zero": options = options with { Epsilon = 0 }; break;
            case "eps negative": options = options with { Epsilon = -1e-5 }; break;
            case "eps NaN": options = options with { Epsilon = double.NaN }; break;
            case "eps infinite": options = options with { Epsilon = double.PositiveInfinity }; break;
            case "momentum above 1": options = options with { Momentum = 1.0000001 }; break;
            case "momentum negative": options = options with { Momentum = -0.1 }; break;
            case "momentum NaN": options = options with { Momentum = double.NaN }; break;
            case "y overlaps gamma": gs = y.AsSpan(count - 1, 3); break;
            case "y shifted over x": ys = x.AsSpan(1, count); break;
            case "mean overlaps variance": vs = mean.AsSpan(2, 3); break;
            case "unbiased with M = 1": break;
            default: throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown rule");
        }

        double[] xBefore = (double[])x.Clone(), runVarBefore = (double[])runVar.Clone();
        // Spans cannot be captured by a lambda, so the throw is caught by hand.
        ArgumentException? error = null;
        try
        {
            ReferenceBatchNorm.ForwardTraining(shape, options, new ForwardTrainingTensors<double>
            {
                X = xs,
                Gamma = gs,
                Beta = bs,
                Y = ys,
                BatchMean = ms,
                BatchVariance = vs,
                BatchInvStd = ss,
                RunningMean = rm,
                RunningVariance = rv,
            });
        }
        catch (ArgumentException e)
        {
            error = e;
        }

        Assert.NotNull(error);
        Assert.Equal(argument, error.ParamName);
        Assert.All(y, v => Assert.Equal(Sentinel, v));
        Assert.All(mean, v => Assert.Equal(Sentinel, v));
        Assert.All(variance, v => Assert.Equal(Sentinel, v));
        Assert.All(invStd, v => Assert.Equal(Sentinel, v));
        Assert.All(runMean, v => Assert.Equal(Sentinel, v));
        Assert.Equal(runVarBefore, runVar);
        Assert.Equal(xBefore, x);
    }

    [Fact]
    public void MessagesNameTheValueAndTheRule()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => ReferenceBatchNorm.ForwardInference(Shape, BatchNormOptions.PyTorch with { Epsilon = -2.5 },
            new ForwardInferenceTensors<double> { X = new double[6], RunningMean = new double[3], RunningVariance = new double[3], Y = new double[6] }));
        Assert.Contains("-2.5", error.Message);
        Assert.Contains("eps must be finite and greater than 0", error.Message);

        var length = Assert.ThrowsAny<ArgumentException>(() => ReferenceBatchNorm.ForwardInference(Shape, BatchNormOptions.PyTorch,
            new ForwardInferenceTensors<double> { X = new double[5], RunningMean = new double[3], RunningVariance = new double[3], Y = new double[6] }));
        Assert.Contains("x has 5 elements; shape 2x3x1 channels-first needs 6", length.Message);
    }

    [Fact]
    public void ExactlyInPlaceIsAllowedAndGivesTheSameResult()
    {
        double[] x = [1, 2, 3, 3, 6, -1];
        double[] outOfPlace = new double[6];
        ReferenceBatchNorm.ForwardInference(Shape, BatchNormOptions.PyTorch, new ForwardInferenceTensors<double>
        { X = x, RunningMean = new double[3], RunningVariance = [1, 1, 1], Y = outOfPlace });
        ReferenceBatchNorm.ForwardInference(Shape, BatchNormOptions.PyTorch, new ForwardInferenceTensors<double>
        { X = x, RunningMean = new double[3], RunningVariance = [1, 1, 1], Y = x });
        Assert.Equal(outOfPlace, x);
    }

    [Fact]
    public void InferenceAndBackwardRejectNegativeVarianceAndOverlapsWithoutWriting()
    {
        double[] y = Filled(6, Sentinel), dx = Filled(6, Sentinel), dg = Filled(3, Sentinel), db = Filled(3, Sentinel);
        var inference = Assert.ThrowsAny<ArgumentException>(() => ReferenceBatchNorm.ForwardInference(Shape, BatchNormOptions.PyTorch,
            new ForwardInferenceTensors<double> { X = new double[6], RunningMean = new double[3], RunningVariance = [1, -1, 1], Y = y }));
        Assert.Equal("runningVariance", inference.ParamName);

        var backward = Assert.ThrowsAny<ArgumentException>(() => ReferenceBatchNorm.BackwardInference(Shape, BatchNormOptions.PyTorch,
            new BackwardInferenceTensors<double> { X = new double[6], Dy = new double[6], RunningMean = new double[3], RunningVariance = [1, 1, -0.0 - 1e-300], Dx = dx, DGamma = dg, DBeta = db }));
        Assert.Equal("runningVariance", backward.ParamName);

        double[] x = Filled(6, 1);
        var overlap = Assert.ThrowsAny<ArgumentException>(() => ReferenceBatchNorm.BackwardTraining(Shape,
            new BackwardTrainingTensors<double> { X = x, Dy = new double[6], SavedMean = new double[3], SavedInvStd = [1, 1, 1], Dx = dx, DGamma = x.AsSpan(3, 3), DBeta = db }));
        Assert.Equal("dgamma", overlap.ParamName);

        var lengths = Assert.ThrowsAny<ArgumentException>(() => ReferenceBatchNorm.BackwardTraining(Shape,
            new BackwardTrainingTensors<double> { X = x, Dy = new double[6], SavedMean = new double[3], SavedInvStd = [1, 1, 1], Dx = dx, DGamma = dg, DBeta = new double[2] }));
        Assert.Equal("dbeta", lengths.ParamName);

        Assert.All(y.Concat(dx).Concat(dg).Concat(db), v => Assert.Equal(Sentinel, v));
        Assert.All(x, v => Assert.Equal(1.0, v));
    }

    private static double[] Filled(int length, double value) => Enumerable.Repeat(value, length).ToArray();
}
