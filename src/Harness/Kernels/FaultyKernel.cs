using BatchNorm.Optimized;

namespace BatchNorm.Harness.Kernels;

/// <summary>
/// The correct optimized kernel with exactly one planted bug, so a verifier that passes the
/// optimized kernel and rejects this one has caught that bug and nothing else. Where the bug is a
/// loop bug (a tail skipped or strided), the fault is the optimized kernel itself instantiated with
/// a faulty loop (<see cref="OptimizedBatchNorm{TTail}"/>), so it sits in the kernel's own loop at
/// its own vector width. Where the bug is in a formula (the variance, istd, the running update,
/// the backward's terms) or in the data flow between passes, the fault runs the correct kernel and
/// then rewrites the affected outputs with the wrong formula in plain float: the formula is the
/// bug, and a rewrite states it most plainly. Each subclass says which form it takes.
/// </summary>
internal abstract class FaultyKernel(string name, string bug) : IBatchNormKernel
{
    public string Name { get; } = FaultyKernels.Prefix + name;

    /// <summary>One sentence: what is wrong.</summary>
    public string Bug { get; } = bug;

    /// <summary>Plain batch norm only, unless the fault is one of a fused ReLU (<see cref="FaultyReluKernels"/>): its rewrites do not apply one.</summary>
    public virtual bool Supports(Activation activation) => activation == Activation.None;

    /// <summary>Float32, unless the fault is one of a reduced-precision kernel (<see cref="FaultyPrecisionKernels"/>).</summary>
    public virtual DataPrecision Precision => DataPrecision.Float32;

    /// <summary>Undeclared (held to <see cref="NumericalContract.Default"/>), unless the fault is of a kernel that declares one.</summary>
    public virtual NumericalContract? Contract => null;

    /// <summary>
    /// The kernel whose recorded errors in the accuracy baseline this one is held to, or null: its own name's (none are
    /// recorded for planted bugs). A fault that is a regression of a recorded kernel names it.
    /// </summary>
    public virtual string? RatchetedAs => null;

    /// <summary>The correct kernel the bug is planted in.</summary>
    protected OptimizedBatchNorm Correct { get; } = new(VectorWidth.Auto);

    public virtual void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) =>
        Correct.ForwardTraining(shape, options, t);

    public virtual void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) =>
        Correct.ForwardInference(shape, options, t);

    public virtual void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) =>
        Correct.BackwardTraining(shape, t);

    public virtual void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) =>
        Correct.BackwardInference(shape, options, t);

    /// <summary>
    /// Runs the correct kernel but leaves the running statistics as they were, for a fault that
    /// recomputes the statistics and updates them itself (once) through <see cref="RewriteChannel"/>.
    /// </summary>
    protected void CorrectWithoutRunningUpdate(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        float[] mean = t.RunningMean.ToArray(), variance = t.RunningVariance.ToArray();
        Correct.ForwardTraining(shape, options, t);
        mean.CopyTo(t.RunningMean);
        variance.CopyTo(t.RunningVariance);
    }

    /// <summary>Rewrites channel c as a textbook float kernel would with these statistics: y, the batch statistics and the running update.</summary>
    protected static void RewriteChannel(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t, int c,
        float mean, float variance, float invStd, double runningVarianceFactor = double.NaN)
    {
        float gamma = ChannelParameter.ScaleAt(t.Gamma, c), beta = ChannelParameter.ShiftAt(t.Beta, c);
        foreach (int i in shape.ChannelOffsets(c))
            t.Y[i] = (t.X[i] - mean) * invStd * gamma + beta;
        t.BatchMean[c] = mean;
        t.BatchVariance[c] = variance;
        t.BatchInvStd[c] = invStd;
        if (!t.RunningVariance.IsEmpty)
        {
            t.RunningMean[c] = (float)RunningStatsRule.UpdateMean(options.Convention, options.Momentum, t.RunningMean[c], mean);
            t.RunningVariance[c] = double.IsNaN(runningVarianceFactor)
                ? (float)RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, t.RunningVariance[c], variance, shape.M)
                : (float)(((1 - RunningStatsRule.BatchWeight(options.Convention, options.Momentum)) * t.RunningVariance[c])
                          + (RunningStatsRule.BatchWeight(options.Convention, options.Momentum) * variance * runningVarianceFactor));
        }
    }

    /// <summary>Training dx for channel c from the correct dgamma and dbeta, with optional terms left out.</summary>
    protected static void RewriteTrainingDx(in TensorShape shape, in BackwardTrainingTensors<float> t, int c, bool meanDyTerm, bool xhatTerm)
    {
        float mean = t.SavedMean[c], invStd = t.SavedInvStd[c], k = ChannelParameter.ScaleAt(t.Gamma, c) * invStd;
        float meanDy = t.DBeta[c] / shape.M, meanDyXhat = t.DGamma[c] / shape.M;
        foreach (int i in shape.ChannelOffsets(c))
        {
            float xhat = (t.X[i] - mean) * invStd;
            t.Dx[i] = k * (t.Dy[i] - (meanDyTerm ? meanDy : 0f) - (xhatTerm ? xhat * meanDyXhat : 0f));
        }
    }

    /// <summary>Channel c's values in logical order.</summary>
    protected static float[] Channel(in TensorShape shape, ReadOnlySpan<float> x, int c)
    {
        float[] values = new float[shape.M];
        int k = 0;
        foreach (int i in shape.ChannelOffsets(c))
            values[k++] = x[i];
        return values;
    }
}
