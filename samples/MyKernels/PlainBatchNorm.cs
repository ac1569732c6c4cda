using BatchNorm;
using BatchNorm.Harness.Kernels;

namespace MyKernels;

/// <summary>
/// A plain float32 batch norm, as a user would write one: per channel, the statistics are summed in
/// double (two passes: mean, then squared deviations), and each element is computed in float from
/// float coefficients. It walks a channel's elements with <see cref="TensorShape.ChannelOffsets"/>,
/// so both layouts take the same code.
/// </summary>
public class PlainBatchNorm : IBatchNormKernel
{
    public virtual string Name => "plain";

    /// <summary>
    /// How it computes, so bnverify holds it to the bounds of that (docs/tolerances.md, "Contracts"): sums in
    /// double, y centred on the mean rounded to float, (x - m) istd gamma + beta.
    /// </summary>
    public NumericalContract Contract => NumericalContract.Parse("double/rounded-centre/centred");

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            double mean = Sum(shape, c, t.X) / shape.M;
            double variance = SquaredDeviations(shape, c, t.X, mean) / VarianceDivisor(shape.M);
            float m = (float)mean, istd = (float)(1 / Math.Sqrt(variance + options.Epsilon));
            float gamma = t.Gamma.IsEmpty ? 1 : t.Gamma[c], beta = t.Beta.IsEmpty ? 0 : t.Beta[c];
            foreach (int i in shape.ChannelOffsets(c))
                t.Y[i] = ((t.X[i] - m) * istd * gamma) + beta;
            t.BatchMean[c] = m;
            t.BatchVariance[c] = (float)variance;
            t.BatchInvStd[c] = istd;
            if (!t.RunningMean.IsEmpty)
            {
                t.RunningMean[c] = (float)RunningStatsRule.UpdateMean(options.Convention, options.Momentum, t.RunningMean[c], mean);
                t.RunningVariance[c] = (float)RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, t.RunningVariance[c], variance, shape.M);
            }
        }
    }

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            float gamma = t.Gamma.IsEmpty ? 1 : t.Gamma[c], beta = t.Beta.IsEmpty ? 0 : t.Beta[c];
            float m = t.RunningMean[c], a = (float)(gamma / Math.Sqrt(t.RunningVariance[c] + options.Epsilon));
            foreach (int i in shape.ChannelOffsets(c))
                t.Y[i] = ((t.X[i] - m) * a) + beta;
        }
    }

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, t);
        for (int c = 0; c < shape.C; c++)
        {
            double mean = t.SavedMean[c], istd = t.SavedInvStd[c], gamma = t.Gamma.IsEmpty ? 1 : t.Gamma[c];
            double dbeta = Sum(shape, c, t.Dy), dgamma = 0;
            foreach (int i in shape.ChannelOffsets(c))
                dgamma += t.Dy[i] * (t.X[i] - mean) * istd;

            // dx = gamma istd (dy - mean(dy) - xhat mean(dy xhat)), per element in double.
            foreach (int i in shape.ChannelOffsets(c))
                t.Dx[i] = (float)(gamma * istd * (t.Dy[i] - (dbeta / shape.M) - ((t.X[i] - mean) * istd * dgamma / shape.M)));
            t.DGamma[c] = (float)dgamma;
            t.DBeta[c] = (float)dbeta;
        }
    }

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            double istd = 1 / Math.Sqrt(t.RunningVariance[c] + options.Epsilon), gamma = t.Gamma.IsEmpty ? 1 : t.Gamma[c];
            double dbeta = 0, dgamma = 0;
            foreach (int i in shape.ChannelOffsets(c))
            {
                dbeta += t.Dy[i];
                dgamma += t.Dy[i] * (t.X[i] - t.RunningMean[c]) * istd;
                t.Dx[i] = (float)(t.Dy[i] * gamma * istd);
            }

            t.DGamma[c] = (float)dgamma;
            t.DBeta[c] = (float)dbeta;
        }
    }

    /// <summary>The normalizer of the batch variance: M, the number of values per channel.</summary>
    protected virtual double VarianceDivisor(int m) => m;

    private static double Sum(in TensorShape shape, int c, ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (int i in shape.ChannelOffsets(c))
            sum += values[i];
        return sum;
    }

    private static double SquaredDeviations(in TensorShape shape, int c, ReadOnlySpan<float> x, double mean)
    {
        double sum = 0;
        foreach (int i in shape.ChannelOffsets(c))
            sum += (x[i] - mean) * (x[i] - mean);
        return sum;
    }
}
