using BatchNorm.Reference;

namespace BatchNorm.Tests.GradCheck;

/// <summary>The reference backward passes, and versions with one known mistake each, in double.</summary>
public static class Backwards
{
    /// <summary>The reference: training backward from the batch statistics of x, or inference backward.</summary>
    public static Gradients Reference(Problem p, double[] dy)
    {
        int c = p.Shape.C;
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
                Dx = dx,
                DGamma = dgamma,
                DBeta = dbeta,
            });
        }
        else
        {
            ReferenceBatchNorm.BackwardInference(p.Shape, p.Options, new BackwardInferenceTensors<double>
            {
                X = p.X,
                Dy = dy,
                Gamma = p.Gamma,
                RunningMean = p.RunningMean,
                RunningVariance = p.RunningVariance,
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
