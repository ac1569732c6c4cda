namespace BatchNorm.Harness.Kernels;

/// <summary>
/// The plain baseline: one thread, no SIMD, the textbook loops. Sums run in double (a float
/// accumulator's error grows with M); the mean is rounded to float before x - mean is formed and
/// gamma*istd is one float, as most float kernels do, so on data whose mean dwarfs its spread it
/// shows the error the tolerance model's mean-rounding term allows and the optimized kernel avoids.
/// </summary>
internal sealed class ScalarFloatKernel : IBatchNormKernel
{
    public string Name => "scalar-float";

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            double sum = 0;
            foreach (int i in shape.ChannelOffsets(c))
                sum += t.X[i];
            float mean = (float)(sum / shape.M);
            double squares = 0;
            foreach (int i in shape.ChannelOffsets(c))
                squares += (double)(t.X[i] - mean) * (t.X[i] - mean);
            double variance = squares / shape.M;
            float invStd = (float)(1.0 / Math.Sqrt(variance + options.Epsilon));
            float scale = ChannelParameter.ScaleAt(t.Gamma, c) * invStd, shift = ChannelParameter.ShiftAt(t.Beta, c);
            foreach (int i in shape.ChannelOffsets(c))
                t.Y[i] = (t.X[i] - mean) * scale + shift;
            t.BatchMean[c] = mean;
            t.BatchVariance[c] = (float)variance;
            t.BatchInvStd[c] = invStd;
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
            float scale = (float)(ChannelParameter.ScaleAt(t.Gamma, c) / Math.Sqrt(t.RunningVariance[c] + options.Epsilon));
            float mean = t.RunningMean[c], shift = ChannelParameter.ShiftAt(t.Beta, c);
            foreach (int i in shape.ChannelOffsets(c))
                t.Y[i] = (t.X[i] - mean) * scale + shift;
        }
    }

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, t);
        for (int c = 0; c < shape.C; c++)
        {
            float mean = t.SavedMean[c], invStd = t.SavedInvStd[c], gamma = ChannelParameter.ScaleAt(t.Gamma, c);
            (double dbeta, double dgamma) = ParameterGradients(shape, c, t.X, t.Dy, mean, invStd);
            float meanDy = (float)(dbeta / shape.M), meanDyXhat = (float)(dgamma / shape.M), k = gamma * invStd;
            foreach (int i in shape.ChannelOffsets(c))
                t.Dx[i] = k * (t.Dy[i] - meanDy - (t.X[i] - mean) * invStd * meanDyXhat);
            t.DBeta[c] = (float)dbeta;
            t.DGamma[c] = (float)dgamma;
        }
    }

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            float invStd = (float)(1.0 / Math.Sqrt(t.RunningVariance[c] + options.Epsilon));
            float k = ChannelParameter.ScaleAt(t.Gamma, c) * invStd;
            (double dbeta, double dgamma) = ParameterGradients(shape, c, t.X, t.Dy, t.RunningMean[c], invStd);
            foreach (int i in shape.ChannelOffsets(c))
                t.Dx[i] = k * t.Dy[i];
            t.DBeta[c] = (float)dbeta;
            t.DGamma[c] = (float)dgamma;
        }
    }

    private static (double DBeta, double DGamma) ParameterGradients(in TensorShape shape, int c, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float mean, float invStd)
    {
        double dbeta = 0, dgamma = 0;
        foreach (int i in shape.ChannelOffsets(c))
        {
            dbeta += dy[i];
            dgamma += (double)dy[i] * ((x[i] - mean) * invStd);
        }

        return (dbeta, dgamma);
    }
}
