using BatchNorm.Reference;

namespace BatchNorm.Tests.GradCheck;

/// <summary>
/// A batch norm call whose gradients are checked: shape, settings, the point (x, gamma, beta),
/// and the running statistics inference uses. gamma or beta empty means absent (1 or 0), and
/// is then not differentiated.
/// </summary>
public sealed record Problem(TensorShape Shape, BatchNormOptions Options, bool Training, double[] X, double[] Gamma, double[] Beta, double[] RunningMean, double[] RunningVariance)
{
    /// <summary>A problem with x ~ offset + spread N(0,1), gamma ~ U(0.5, 1.5), beta ~ U(-1, 1), from a seed.</summary>
    public static Problem Random(TensorShape shape, BatchNormOptions options, bool training, int seed, bool affine = true, double offset = 0, double spread = 1)
    {
        var random = new Random(seed);
        double Normal() => Harness.Cases.CaseInputs.Normal(random);
        double[] x = Enumerable.Range(0, shape.ElementCount).Select(_ => offset + spread * Normal()).ToArray();
        double[] gamma = affine ? Enumerable.Range(0, shape.C).Select(_ => 0.5 + random.NextDouble()).ToArray() : [];
        double[] beta = affine ? Enumerable.Range(0, shape.C).Select(_ => random.NextDouble() * 2 - 1).ToArray() : [];
        double[] runMean = Enumerable.Range(0, shape.C).Select(_ => offset + 0.1 * spread * Normal()).ToArray();
        double[] runVar = Enumerable.Range(0, shape.C).Select(_ => spread * spread * (0.5 + random.NextDouble())).ToArray();
        return new Problem(shape, options, training, x, gamma, beta, runMean, runVar);
    }

    /// <summary>y at (x, gamma, beta): the reference forward, in the problem's mode.</summary>
    public double[] Forward(double[] x, double[] gamma, double[] beta)
    {
        double[] y = new double[x.Length];
        if (Training)
        {
            int c = Shape.C;
            ReferenceBatchNorm.ForwardTraining(Shape, Options, new ForwardTrainingTensors<double>
            {
                X = x,
                Gamma = gamma,
                Beta = beta,
                Y = y,
                BatchMean = new double[c],
                BatchVariance = new double[c],
                BatchInvStd = new double[c],
            });
        }
        else
        {
            ReferenceBatchNorm.ForwardInference(Shape, Options, new ForwardInferenceTensors<double>
            {
                X = x,
                Gamma = gamma,
                Beta = beta,
                RunningMean = RunningMean,
                RunningVariance = RunningVariance,
                Y = y,
            });
        }

        return y;
    }

    /// <summary>Per channel: the mean and istd y is normalized with (batch statistics in training, running ones in inference).</summary>
    public (double[] Mean, double[] InvStd) Statistics()
    {
        int c = Shape.C;
        if (!Training)
            return (RunningMean, RunningVariance.Select(v => ReferenceBatchNorm.InvStd(v, Options.Epsilon)).ToArray());
        double[] mean = new double[c], variance = new double[c], invStd = new double[c];
        ReferenceBatchNorm.ForwardTraining(Shape, Options, new ForwardTrainingTensors<double>
        {
            X = X,
            Y = new double[X.Length],
            BatchMean = mean,
            BatchVariance = variance,
            BatchInvStd = invStd,
        });
        return (mean, invStd);
    }
}

/// <summary>The gradients a backward pass returns for a cotangent dy.</summary>
public sealed record Gradients(double[] Dx, double[] DGamma, double[] DBeta);

/// <summary>A backward pass under test: the gradients of the problem's forward at its point, for a cotangent.</summary>
public delegate Gradients BackwardPass(Problem problem, double[] dy);
