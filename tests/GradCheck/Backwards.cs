using BatchNorm.Reference;

namespace BatchNorm.Tests.GradCheck;

/// <summary>The reference backward passes, and versions with one known mistake each, in double.</summary>
public static class Backwards
{
    /// <summary>The reference: training backward from the batch statistics of x, or inference backward; under a fused ReLU, with the forward's y.</summary>
    public static Gradients Reference(Problem p, double[] dy) =>
        Reference(p, dy, p.Options.Activation == Activation.Relu ? p.Forward(p.X, p.Gamma, p.Beta) : []);

    /// <summary>A fused ReLU's backward that ignores the forward's y: every dy passes, as in plain batch norm.</summary>
    public static Gradients ReluGateIgnored(Problem p, double[] dy) => Reference(p, dy, []);

    private static Gradients Reference(Problem p, double[] dy, double[] forwardY)
    {
        int c = p.Shape.C;
        // The inference backward requires forwardY exactly when its options fuse ReLU.
        var options = forwardY.Length == 0 ? p.Options with { Activation = Activation.None } : p.Options;
        double[] dx = new double[p.X.Length], dgamma = new double[c], dbeta = new double[c];
        if (p.Training)
        {
            var (mean, invStd) = p.Statistics();
            ReferenceBatchNorm.BackwardTraining(p.Shape, new BackwardTrainingTensors<double>
            {
                X = p.X,
                Dy = dy,
                Gamma = p.Gamma,
                SavedMean = mean,
                SavedInvStd = invStd,
                ForwardY = forwardY,
                Dx = dx,
                DGamma = dgamma,
                DBeta = dbeta,
            });
        }
        else
        {
            ReferenceBatchNorm.BackwardInference(p.Shape, options, new BackwardInferenceTensors<double>
            {
                X = p.X,
                Dy = dy,
                Gamma = p.Gamma,
                RunningMean = p.RunningMean,
                RunningVariance = p.RunningVariance,
                ForwardY = forwardY,
                Dx = dx,
                DGamma = dgamma,
                DBeta = dbeta,
            });
        }

        return new Gradients(dx, dgamma, dbeta);
    }

    /// <summary>Training dx without the -mean(dy) term.</summary>
    public static Gradients WithoutMeanDy(Problem p, double[] dy) => Mutated(p, dy, meanDy: false, xhatTerm: true);

    /// <summary>Training dx without the -xhat * mean(dy * xhat) term.</summary>
    public static Gradients WithoutXhatTerm(Problem p, double[] dy) => Mutated(p, dy, meanDy: true, xhatTerm: false);

    /// <summary>The inference formula dx = gamma * istd * dy used in training mode.</summary>
    public static Gradients InferenceFormulaInTraining(Problem p, double[] dy) => Mutated(p, dy, meanDy: false, xhatTerm: false);

    private static Gradients Mutated(Problem p, double[] dy, bool meanDy, bool xhatTerm)
    {
        var correct = Reference(p, dy);
        var (mean, invStd) = p.Statistics();
        double[] dx = new double[p.X.Length];
        int m = p.Shape.M;
        for (int c = 0; c < p.Shape.C; c++)
        {
            double k = ChannelParameter.ScaleAt<double>(p.Gamma, c) * invStd[c];
            foreach (int i in p.Shape.ChannelOffsets(c))
            {
                double xhat = (p.X[i] - mean[c]) * invStd[c];
                dx[i] = k * (dy[i] - (meanDy ? correct.DBeta[c] / m : 0) - (xhatTerm ? xhat * correct.DGamma[c] / m : 0));
            }
        }

        return correct with { Dx = dx };
    }
}
