using BatchNorm.Harness.Cases;
using BatchNorm.Reference;

namespace BatchNorm.Harness.Comparison;

/// <summary>One output's expected values (the reference, in double) and each element's bound.</summary>
public sealed record ExpectedOutput(string Name, bool PerChannel, double[] Values, double[] Bounds);

/// <summary>
/// Runs the reference on a case's float inputs (widened exactly to double) and attaches the
/// tolerance model's bound to every element. Exactness rules, where the bound is 0:
/// a channel whose variance is exactly 0 (M = 1, a constant channel) must give its mean, a zero
/// variance and y = beta exactly; M = 1 backward gives dx = 0, dgamma = 0, dbeta = dy exactly; a
/// channel with dy all zero gives dx = 0 and zero parameter gradients exactly; an
/// <see cref="ValueFamily.ExactPairs"/> case must give its mean and variance exactly.
/// </summary>
public static class ExpectedOutputs
{
    public static IReadOnlyList<ExpectedOutput> Compute(VerificationCase @case, CaseInputs inputs) => @case.Pass switch
    {
        BatchNormPass.ForwardTraining => ForwardTraining(@case, inputs),
        BatchNormPass.ForwardInference => ForwardInference(@case, inputs),
        BatchNormPass.BackwardTraining => BackwardTraining(@case, inputs),
        _ => BackwardInference(@case, inputs),
    };

    private static IReadOnlyList<ExpectedOutput> ForwardTraining(VerificationCase @case, CaseInputs inputs)
    {
        var shape = @case.Shape;
        var options = @case.Options;
        int c = shape.C;
        double[] x = Widen(inputs.X), gamma = Widen(inputs.Gamma), beta = Widen(inputs.Beta);
        double[] y = new double[x.Length], mean = new double[c], variance = new double[c], invStd = new double[c];
        double[] runMean = Widen(inputs.RunningMean), runVar = Widen(inputs.RunningVariance);
        ReferenceBatchNorm.ForwardTraining(shape, options, new ForwardTrainingTensors<double>
        {
            X = x,
            Gamma = gamma,
            Beta = beta,
            Y = y,
            BatchMean = mean,
            BatchVariance = variance,
            BatchInvStd = invStd,
            RunningMean = @case.WithRunningStats ? runMean : [],
            RunningVariance = @case.WithRunningStats ? runVar : [],
        });

        double[] yBound = new double[x.Length], meanBound = new double[c], varBound = new double[c], invStdBound = new double[c];
        double[] runMeanBound = new double[c], runVarBound = new double[c];
        double w = RunningStatsRule.BatchWeight(options.Convention, options.Momentum);
        double f = RunningStatsRule.UsesUnbiasedVariance(options.Convention) && shape.M > 1 ? (double)shape.M / (shape.M - 1) : 1.0;
        bool exactStatistics = @case.Values == ValueFamily.ExactPairs;
        for (int ch = 0; ch < c; ch++)
        {
            double meanAbs = shape.ChannelOffsets(ch).Average(i => Math.Abs(x[i]));
            bool zeroVariance = variance[ch] == 0;
            meanBound[ch] = zeroVariance || exactStatistics ? 0 : ToleranceModel.Mean(shape.M, mean[ch], meanAbs);
            varBound[ch] = zeroVariance || exactStatistics ? 0 : ToleranceModel.Variance(shape.M, variance[ch], ToleranceModel.Mean(shape.M, mean[ch], meanAbs));
            invStdBound[ch] = ToleranceModel.InvStd(invStd[ch], variance[ch], options.Epsilon, varBound[ch]);
            double g = ChannelParameter.ScaleAt<double>(gamma, ch);
            foreach (int i in shape.ChannelOffsets(ch))
            {
                double gammaXhat = g * (x[i] - mean[ch]) * invStd[ch];
                yBound[i] = zeroVariance ? 0 : ToleranceModel.TrainingY(g, invStd[ch], meanBound[ch], invStdBound[ch], gammaXhat, y[i]);
            }

            runMeanBound[ch] = ToleranceModel.Running(w, inputs.RunningMean[ch], mean[ch], meanBound[ch], runMean[ch]);
            runVarBound[ch] = ToleranceModel.Running(w, inputs.RunningVariance[ch], f * variance[ch], f * varBound[ch], runVar[ch]);
        }

        if (exactStatistics)
            RequireFloats(mean, variance);
        var outputs = new List<ExpectedOutput>
        {
            new("y", false, y, yBound), new("batchMean", true, mean, meanBound),
            new("batchVariance", true, variance, varBound), new("batchInvStd", true, invStd, invStdBound),
        };
        if (@case.WithRunningStats)
        {
            outputs.Add(new("runningMean", true, runMean, runMeanBound));
            outputs.Add(new("runningVariance", true, runVar, runVarBound));
        }

        return outputs;
    }

    private static IReadOnlyList<ExpectedOutput> ForwardInference(VerificationCase @case, CaseInputs inputs)
    {
        var shape = @case.Shape;
        double[] x = Widen(inputs.X), gamma = Widen(inputs.Gamma), y = new double[x.Length], bound = new double[x.Length];
        ReferenceBatchNorm.ForwardInference(shape, @case.Options, new ForwardInferenceTensors<double>
        {
            X = x,
            Gamma = gamma,
            Beta = Widen(inputs.Beta),
            RunningMean = Widen(inputs.RunningMean),
            RunningVariance = Widen(inputs.RunningVariance),
            Y = y,
        });
        for (int ch = 0; ch < shape.C; ch++)
        {
            double istd = ReferenceBatchNorm.InvStd(inputs.RunningVariance[ch], @case.Options.Epsilon), g = ChannelParameter.ScaleAt<double>(gamma, ch);
            foreach (int i in shape.ChannelOffsets(ch))
                bound[i] = ToleranceModel.InferenceY(g * (x[i] - inputs.RunningMean[ch]) * istd, y[i]);
        }

        return [new("y", false, y, bound)];
    }

    private static IReadOnlyList<ExpectedOutput> BackwardTraining(VerificationCase @case, CaseInputs inputs)
    {
        var shape = @case.Shape;
        int c = shape.C;
        double[] x = Widen(inputs.X), dy = Widen(inputs.Dy), gamma = Widen(inputs.Gamma), mean = Widen(inputs.SavedMean), invStd = Widen(inputs.SavedInvStd);
        double[] dx = new double[x.Length], dgamma = new double[c], dbeta = new double[c];
        ReferenceBatchNorm.BackwardTraining(shape, new BackwardTrainingTensors<double>
        {
            X = x,
            Dy = dy,
            Gamma = gamma,
            SavedMean = mean,
            SavedInvStd = invStd,
            Dx = dx,
            DGamma = dgamma,
            DBeta = dbeta,
        });
        return Backward(shape, x, dy, dx, dgamma, dbeta, mean, invStd, gamma, training: true);
    }

    private static IReadOnlyList<ExpectedOutput> BackwardInference(VerificationCase @case, CaseInputs inputs)
    {
        var shape = @case.Shape;
        int c = shape.C;
        double[] x = Widen(inputs.X), dy = Widen(inputs.Dy), gamma = Widen(inputs.Gamma), mean = Widen(inputs.RunningMean);
        double[] dx = new double[x.Length], dgamma = new double[c], dbeta = new double[c];
        ReferenceBatchNorm.BackwardInference(shape, @case.Options, new BackwardInferenceTensors<double>
        {
            X = x,
            Dy = dy,
            Gamma = gamma,
            RunningMean = mean,
            RunningVariance = Widen(inputs.RunningVariance),
            Dx = dx,
            DGamma = dgamma,
            DBeta = dbeta,
        });
        double[] invStd = Array.ConvertAll(inputs.RunningVariance, v => ReferenceBatchNorm.InvStd(v, @case.Options.Epsilon));
        return Backward(shape, x, dy, dx, dgamma, dbeta, mean, invStd, gamma, training: false);
    }

    private static IReadOnlyList<ExpectedOutput> Backward(in TensorShape shape, double[] x, double[] dy, double[] dx, double[] dgamma, double[] dbeta,
        double[] mean, double[] invStd, double[] gamma, bool training)
    {
        int c = shape.C;
        long m = shape.M;
        double[] dxBound = new double[x.Length], dgammaBound = new double[c], dbetaBound = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double sumAbsDy = 0, sumAbsDyXhat = 0;
            foreach (int i in shape.ChannelOffsets(ch))
            {
                sumAbsDy += Math.Abs(dy[i]);
                sumAbsDyXhat += Math.Abs(dy[i] * (x[i] - mean[ch]) * invStd[ch]);
            }

            bool exact = sumAbsDy == 0 || (training && m == 1);
            dbetaBound[ch] = exact ? 0 : ToleranceModel.DBeta(m, sumAbsDy, dbeta[ch]);
            dgammaBound[ch] = exact ? 0 : ToleranceModel.DGamma(m, sumAbsDyXhat, dgamma[ch], training ? 3 : 5);
            double k1 = ChannelParameter.ScaleAt<double>(gamma, ch) * invStd[ch];
            foreach (int i in shape.ChannelOffsets(ch))
            {
                double xhat = (x[i] - mean[ch]) * invStd[ch];
                dxBound[i] = exact ? 0
                    : training ? ToleranceModel.TrainingDx(m, k1, xhat, dy[i], dbeta[ch], dgamma[ch], dbetaBound[ch], dgammaBound[ch], dx[i])
                    : ToleranceModel.InferenceDx(dx[i]);
            }
        }

        return [new("dx", false, dx, dxBound), new("dgamma", true, dgamma, dgammaBound), new("dbeta", true, dbeta, dbetaBound)];
    }

    private static void RequireFloats(params double[][] values)
    {
        foreach (double v in values.SelectMany(a => a))
        {
            if ((float)v != v)
                throw new InvalidOperationException($"an exact-statistics case produced {v:R}, which is not a float: the case is built wrong.");
        }
    }

    private static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);
}
