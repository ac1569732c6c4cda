namespace BatchNorm.Reference;

/// <summary>
/// Batch normalization in double precision, written as the formulas of Ioffe and Szegedy (2015)
/// so it can be read against the paper. Every sum is compensated (<see cref="CompensatedSum"/>)
/// and the variance is two-pass (<see cref="ChannelStatistics"/>), so the results are accurate
/// to a few units of 2^-53 relative to the terms involved: the yardstick for float32 kernels.
/// Every method validates its arguments first (<see cref="BatchNormValidation"/>) and writes
/// nothing when they are bad.
/// </summary>
internal static class ReferenceBatchNorm
{
    /// <summary>
    /// Training forward: per channel mean and biased variance over the M = N*S values, then
    /// y = gamma * (x - mean) / sqrt(var + eps) + beta, then the options' activation; writes the batch statistics and updates the
    /// running statistics by the convention's rule when they are given.
    /// </summary>
    public static void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<double> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            var stats = ChannelStatistics.Of(t.X, shape, c);
            double invStd = InvStd(stats.Variance, options.Epsilon);
            Normalize(shape, c, t.X, t.Y, stats.Mean, invStd, ChannelParameter.ScaleAt(t.Gamma, c), ChannelParameter.ShiftAt(t.Beta, c), options.Activation);
            t.BatchMean[c] = stats.Mean;
            t.BatchVariance[c] = stats.Variance;
            t.BatchInvStd[c] = invStd;
            if (!t.RunningMean.IsEmpty)
            {
                t.RunningMean[c] = RunningStatsRule.UpdateMean(options.Convention, options.Momentum, t.RunningMean[c], stats.Mean);
                t.RunningVariance[c] = RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, t.RunningVariance[c], stats.Variance, shape.M);
            }
        }
    }

    /// <summary>Inference forward: y = gamma * (x - running mean) / sqrt(running variance + eps) + beta, then the options' activation.</summary>
    public static void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<double> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            double invStd = InvStd(t.RunningVariance[c], options.Epsilon);
            Normalize(shape, c, t.X, t.Y, t.RunningMean[c], invStd, ChannelParameter.ScaleAt(t.Gamma, c), ChannelParameter.ShiftAt(t.Beta, c), options.Activation);
        }
    }

    /// <summary>
    /// Training backward, the statistics depending on x:
    /// dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invStd / M * (M*dy - dbeta - xhat * dgamma),
    /// with xhat = (x - savedMean) * savedInvStd. M = 1 gives dx = 0 exactly when savedMean is x.
    /// With forwardY (fused ReLU), dy is read as <see cref="PassedGradient"/>: 0 where y is not &gt; 0.
    /// </summary>
    public static void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<double> t)
    {
        BatchNormValidation.Check(shape, t);
        int m = shape.M;
        for (int c = 0; c < shape.C; c++)
        {
            double mean = t.SavedMean[c], invStd = t.SavedInvStd[c], gamma = ChannelParameter.ScaleAt(t.Gamma, c);
            (double dbeta, double dgamma) = ParameterGradients(shape, c, t.X, t.Dy, t.ForwardY, mean, invStd);
            foreach (int i in shape.ChannelOffsets(c))
            {
                double xhat = (t.X[i] - mean) * invStd;
                t.Dx[i] = gamma * invStd / m * (m * PassedGradient(t.Dy, t.ForwardY, i) - dbeta - xhat * dgamma);
            }

            t.DBeta[c] = dbeta;
            t.DGamma[c] = dgamma;
        }
    }

    /// <summary>
    /// Inference backward, the running statistics being constants:
    /// dx = gamma * dy / sqrt(running variance + eps); dbeta = sum dy; dgamma = sum dy * xhat.
    /// With forwardY (fused ReLU), dy is read as <see cref="PassedGradient"/>.
    /// </summary>
    public static void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<double> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            double mean = t.RunningMean[c], invStd = InvStd(t.RunningVariance[c], options.Epsilon), gamma = ChannelParameter.ScaleAt(t.Gamma, c);
            (double dbeta, double dgamma) = ParameterGradients(shape, c, t.X, t.Dy, t.ForwardY, mean, invStd);
            foreach (int i in shape.ChannelOffsets(c))
                t.Dx[i] = gamma * PassedGradient(t.Dy, t.ForwardY, i) * invStd;
            t.DBeta[c] = dbeta;
            t.DGamma[c] = dgamma;
        }
    }

    /// <summary>1 / sqrt(var + eps).</summary>
    public static double InvStd(double variance, double epsilon) => 1.0 / Math.Sqrt(variance + epsilon);

    /// <summary>
    /// ReLU as torch.relu computes it: 0 for a negative value, the value itself otherwise (NaN
    /// stays NaN, -0 stays -0; a kernel's +0 there has the same value).
    /// </summary>
    public static double Relu(double value) => value < 0 ? 0 : value;

    /// <summary>
    /// The gradient the batch norm's backward sees at element i: dy, or with forwardY (fused ReLU)
    /// exactly 0 where forwardY ≤ 0 (±0 included: ReLU clamped it) and dy elsewhere, a NaN forwardY
    /// included, as PyTorch's ReLU backward from its output (threshold_backward) and oneDNN's fused
    /// backward compute it.
    /// </summary>
    public static double PassedGradient(ReadOnlySpan<double> dy, ReadOnlySpan<double> forwardY, int i) =>
        !forwardY.IsEmpty && forwardY[i] <= 0 ? 0 : dy[i];

    /// <summary>y = activation(gamma * xhat + beta) with xhat = (x - mean) * invStd, over channel c.</summary>
    private static void Normalize(in TensorShape shape, int c, ReadOnlySpan<double> x, Span<double> y, double mean, double invStd, double gamma, double beta, Activation activation)
    {
        foreach (int i in shape.ChannelOffsets(c))
        {
            double xhat = (x[i] - mean) * invStd;
            double value = gamma * xhat + beta;
            y[i] = activation == Activation.Relu ? Relu(value) : value;
        }
    }

    /// <summary>(sum dy, sum dy * xhat) over channel c, compensated, dy as <see cref="PassedGradient"/> gives it.</summary>
    private static (double DBeta, double DGamma) ParameterGradients(in TensorShape shape, int c, ReadOnlySpan<double> x, ReadOnlySpan<double> dy, ReadOnlySpan<double> forwardY,
        double mean, double invStd)
    {
        var dbeta = new CompensatedSum();
        var dgamma = new CompensatedSum();
        foreach (int i in shape.ChannelOffsets(c))
        {
            double g = PassedGradient(dy, forwardY, i);
            dbeta.Add(g);
            dgamma.Add(g * (x[i] - mean) * invStd);
        }

        return (dbeta.Value, dgamma.Value);
    }
}
