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

    /// <summary>Sums in double, the mean rounded to float before x - mean is formed (variance and y), y = (x - mean)·scale + shift.</summary>
    public NumericalContract Contract { get; } = new(Accumulation.Double, StatisticsForm.RoundedCentre, ApplyForm.Centred);

    /// <summary>Every activation: ReLU after the affine step, dy gated by the forward's y.</summary>
    public bool Supports(Activation activation) => Enum.IsDefined(activation);

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
                t.Y[i] = Activate(options.Activation, (t.X[i] - mean) * scale + shift);
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
                t.Y[i] = Activate(options.Activation, (t.X[i] - mean) * scale + shift);
        }
    }

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, t);
        for (int c = 0; c < shape.C; c++)
        {
            float mean = t.SavedMean[c], invStd = t.SavedInvStd[c], gamma = ChannelParameter.ScaleAt(t.Gamma, c);
            (double dbeta, double dgamma) = ParameterGradients(shape, c, t.X, t.Dy, t.ForwardY, mean, invStd);
            float meanDy = (float)(dbeta / shape.M), meanDyXhat = (float)(dgamma / shape.M), k = gamma * invStd;
            foreach (int i in shape.ChannelOffsets(c))
                t.Dx[i] = k * (Passed(t.Dy, t.ForwardY, i) - meanDy - (t.X[i] - mean) * invStd * meanDyXhat);
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
            (double dbeta, double dgamma) = ParameterGradients(shape, c, t.X, t.Dy, t.ForwardY, t.RunningMean[c], invStd);
            foreach (int i in shape.ChannelOffsets(c))
                t.Dx[i] = k * Passed(t.Dy, t.ForwardY, i);
            t.DBeta[c] = (float)dbeta;
            t.DGamma[c] = (float)dgamma;
        }
    }

    /// <summary>ReLU when fused: 0 for a negative value, else the value.</summary>
    private static float Activate(Activation activation, float value) => activation == Activation.Relu && value < 0 ? 0f : value;

    /// <summary>dy[i], or 0 where a fused ReLU's forward y is at most 0 (a NaN y passes dy).</summary>
    private static float Passed(ReadOnlySpan<float> dy, ReadOnlySpan<float> forwardY, int i) => !forwardY.IsEmpty && forwardY[i] <= 0 ? 0f : dy[i];

    private static (double DBeta, double DGamma) ParameterGradients(in TensorShape shape, int c, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> forwardY,
        float mean, float invStd)
    {
        double dbeta = 0, dgamma = 0;
        foreach (int i in shape.ChannelOffsets(c))
        {
            float g = Passed(dy, forwardY, i);
            dbeta += g;
            dgamma += (double)g * ((x[i] - mean) * invStd);
        }

        return (dbeta, dgamma);
    }
}
