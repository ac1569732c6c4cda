namespace BatchNorm.Harness.Kernels.Algorithms;

/// <summary>
/// A textbook kernel that computes exactly as a <see cref="NumericalContract"/> says and nothing more
/// accurately: its sums in the contract's order and precision (<see cref="ContractArithmetic"/>), its
/// statistics in the contract's form, y and dx applied centred or folded. Named
/// <c>algorithm:SUMS/STATISTICS/APPLY</c>. It is correct for its contract, so it must pass every case
/// under it; under a tighter contract it shows what that contract rules out (docs/tolerances.md, "Contracts").
/// Float arithmetic is plain float32 (no contraction: .NET does not fuse a multiply and an add unless asked).
/// </summary>
internal sealed class AlgorithmKernel(NumericalContract contract) : IBatchNormKernel
{
    /// <summary>The prefix of the kernels' names.</summary>
    public const string Prefix = "algorithm:";

    private readonly ContractArithmetic arithmetic = new(contract);

    public string Name { get; } = Prefix + contract;

    public NumericalContract Contract => contract;

    /// <summary>Every activation: ReLU after the affine step, dy gated by the forward's y.</summary>
    public bool Supports(Activation activation) => Enum.IsDefined(activation);

    private bool InDouble => contract.Sums == Accumulation.Double;

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        int m = (int)shape.M;
        for (int c = 0; c < shape.C; c++)
        {
            int[] at = shape.ChannelOffsets(c).ToArray();
            float[] x = Gather(at, t.X);
            var (mean, centre, variance) = Statistics(x, m);
            float invStd = InvStd(variance, options.Epsilon);
            Apply(t.Y, at, x, ChannelParameter.ScaleAt(t.Gamma, c), ChannelParameter.ShiftAt(t.Beta, c), centre, invStd, options.Activation);
            t.BatchMean[c] = (float)mean;
            t.BatchVariance[c] = (float)variance;
            t.BatchInvStd[c] = invStd;
            if (!t.RunningMean.IsEmpty)
            {
                t.RunningMean[c] = (float)RunningStatsRule.UpdateMean(options.Convention, options.Momentum, t.RunningMean[c], (float)mean);
                t.RunningVariance[c] = (float)RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, t.RunningVariance[c], (float)variance, shape.M);
            }
        }
    }

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        for (int c = 0; c < shape.C; c++)
        {
            int[] at = shape.ChannelOffsets(c).ToArray();
            float[] x = Gather(at, t.X);
            float invStd = InvStd(t.RunningVariance[c], options.Epsilon);
            Apply(t.Y, at, x, ChannelParameter.ScaleAt(t.Gamma, c), ChannelParameter.ShiftAt(t.Beta, c), t.RunningMean[c], invStd, options.Activation);
        }
    }

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, t);
        int m = (int)shape.M;
        for (int c = 0; c < shape.C; c++)
        {
            int[] at = shape.ChannelOffsets(c).ToArray();
            float mean = t.SavedMean[c], invStd = t.SavedInvStd[c], k1 = ChannelParameter.ScaleAt(t.Gamma, c) * invStd;
            var (x, dy) = Gathered(at, t.X, t.Dy, t.ForwardY);
            var (dbeta, dgamma) = ParameterGradients(x, dy, mean, invStd, m);
            float meanDy = (float)dbeta / m, meanDyXhat = (float)dgamma / m;
            if (contract.Apply == ApplyForm.Centred)
            {
                for (int j = 0; j < m; j++)
                    t.Dx[at[j]] = k1 * (dy[j] - meanDy - ((x[j] - mean) * invStd * meanDyXhat));
            }
            else
            {
                // dx = A dy + B x + C, C = -(B mean + A mean(dy)).
                float a = k1, b = -k1 * invStd * meanDyXhat, constant = -((b * mean) + (a * meanDy));
                for (int j = 0; j < m; j++)
                {
                    t.Dx[at[j]] = contract.Apply == ApplyForm.FoldedFma
                        ? MathF.FusedMultiplyAdd(a, dy[j], MathF.FusedMultiplyAdd(b, x[j], constant))
                        : (a * dy[j]) + (b * x[j]) + constant;
                }
            }

            t.DBeta[c] = (float)dbeta;
            t.DGamma[c] = (float)dgamma;
        }
    }

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        int m = (int)shape.M;
        for (int c = 0; c < shape.C; c++)
        {
            int[] at = shape.ChannelOffsets(c).ToArray();
            float invStd = InvStd(t.RunningVariance[c], options.Epsilon);
            float k1 = ChannelParameter.ScaleAt(t.Gamma, c) * invStd;
            var (x, dy) = Gathered(at, t.X, t.Dy, t.ForwardY);
            var (dbeta, dgamma) = ParameterGradients(x, dy, t.RunningMean[c], invStd, m);
            for (int j = 0; j < m; j++)
                t.Dx[at[j]] = k1 * dy[j];
            t.DBeta[c] = (float)dbeta;
            t.DGamma[c] = (float)dgamma;
        }
    }

    /// <summary>
    /// The batch mean (at the sums' precision), the centre y and the variance use, and the biased variance:
    /// two-pass about the mean as the sums hold it; rounded-centre about the mean rounded to float; Welford's.
    /// </summary>
    private (double Mean, double Centre, double Variance) Statistics(float[] x, int m)
    {
        if (InDouble)
            return UnscaledStatistics(x, m);

        // Float sums of squares overflow where M var passes float's range (large-4e18: M var ~ 4e39) though var
        // itself is a float. The kernel scales x by a power of two first, so every value is below 1 in magnitude:
        // exact, so every rounding, and the contract, are unchanged.
        float largest = x.Where(float.IsFinite).Select(MathF.Abs).DefaultIfEmpty(0f).Max();
        int exponent = largest == 0 ? 0 : Math.ILogB(largest) + 1;
        float[] scaled = Array.ConvertAll(x, v => MathF.ScaleB(v, -exponent));
        var (mean, centre, variance) = UnscaledStatistics(scaled, m);
        return (Math.ScaleB(mean, exponent), Math.ScaleB(centre, exponent), Math.ScaleB(variance, 2 * exponent));
    }

    private (double Mean, double Centre, double Variance) UnscaledStatistics(float[] x, int m)
    {
        if (contract.Statistics == StatisticsForm.Welford)
        {
            var (mean, m2) = arithmetic.Welford(m, k => x[k]);
            double variance = InDouble ? m2 / m : (float)m2 / m;
            return (mean, InDouble ? mean : (float)mean, variance);
        }

        double sum = arithmetic.Sum(m, k => x[k]);
        double wide = InDouble ? sum / m : (float)sum / m;
        bool rounded = contract.Statistics == StatisticsForm.RoundedCentre || !InDouble;
        double centre = rounded ? (float)wide : wide;
        // The deviation is formed in float from a float centre, in double from a double one.
        double squares = arithmetic.Sum(m, k => rounded ? Square(x[k] - (float)centre) : Square(x[k] - centre));
        double var = InDouble ? squares / m : (float)squares / m;
        return (wide, centre, var);
    }

    /// <summary>1/sqrt(var + eps): in double then rounded, or in float (three roundings), as the sums run.</summary>
    private float InvStd(double variance, double epsilon) =>
        InDouble ? (float)(1 / Math.Sqrt(variance + epsilon)) : 1f / MathF.Sqrt((float)variance + (float)epsilon);

    private double Square(double d) => InDouble ? d * d : (float)d * (float)d;

    /// <summary>y over one channel, in the contract's form; a double centre is subtracted in double.</summary>
    private void Apply(Span<float> y, int[] at, float[] x, float gamma, float beta, double centre, float invStd, Activation activation)
    {
        float a = gamma * invStd;
        float foldedShift = InDouble ? (float)(beta - (centre * a)) : beta - ((float)centre * a);
        for (int j = 0; j < x.Length; j++)
        {
            float value = contract.Apply switch
            {
                ApplyForm.Centred => ((float)(x[j] - centre) * a) + beta,
                ApplyForm.FoldedFma => MathF.FusedMultiplyAdd(x[j], a, foldedShift),
                ApplyForm.Folded => (x[j] * a) + foldedShift,
                _ => throw new InvalidOperationException($"{contract.Apply} is not an apply form"),
            };
            y[at[j]] = activation == Activation.Relu && value < 0 ? 0f : value;
        }
    }

    private static float[] Gather(int[] at, ReadOnlySpan<float> values)
    {
        float[] gathered = new float[at.Length];
        for (int j = 0; j < at.Length; j++)
            gathered[j] = values[at[j]];
        return gathered;
    }

    /// <summary>x and dy of one channel, dy gated to 0 where a fused ReLU's forward y is at most 0 (a NaN y passes dy).</summary>
    private static (float[] X, float[] Dy) Gathered(int[] at, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> forwardY)
    {
        float[] xs = new float[at.Length], dys = new float[at.Length];
        for (int j = 0; j < at.Length; j++)
        {
            xs[j] = x[at[j]];
            dys[j] = !forwardY.IsEmpty && forwardY[at[j]] <= 0 ? 0f : dy[at[j]];
        }

        return (xs, dys);
    }

    /// <summary>dbeta = Σ dy and dgamma = Σ dy·xhat with xhat = (x - mean)·istd formed in float, summed as the contract sums.</summary>
    private (double DBeta, double DGamma) ParameterGradients(float[] x, float[] dy, float mean, float invStd, int m) =>
        (arithmetic.Sum(m, k => dy[k]), arithmetic.Sum(m, k => dy[k] * ((x[k] - mean) * invStd)));
}
