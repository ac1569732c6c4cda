using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison.ErrorModel;
using BatchNorm.Reference;

namespace BatchNorm.Harness.Comparison;

/// <summary>
/// One output's expected values (the reference, in double), each element's bound, and for y and dx
/// the structured error model the verdict uses (<see cref="Bounds"/> is then the model's combined
/// per-element bound: what an element is held to where the model cannot be fitted). A data output
/// of a reduced <see cref="Precision"/> has no model: each element is held to its bound plus half
/// the format's gap at the kernel's value.
/// </summary>
/// <param name="Name">The output.</param>
/// <param name="Values">The reference's values, in double.</param>
/// <param name="Bounds">Each element's bound (for y and dx the model's combined bound).</param>
/// <param name="Model">The structured model of y or dx; null for per-channel outputs and reduced-precision data.</param>
/// <param name="Precision">The format the kernel stores this output in.</param>
/// <param name="InfinityMayBeNaN">
/// True where the contract lets a correct kernel give NaN for an infinite expected value: a Welford
/// update forms x - mean, which is inf - inf once the running mean is infinite, so its mean (and the
/// running mean it feeds) of a channel holding an infinity is NaN (docs/tolerances.md, "Contracts").
/// </param>
internal sealed record ExpectedOutput(BatchNormOutput Name, double[] Values, double[] Bounds, AffineErrorModel? Model = null,
    DataPrecision Precision = DataPrecision.Float32, bool InfinityMayBeNaN = false)
{
    public bool PerChannel => !Name.IsElementwise();
}

/// <summary>
/// Runs the reference on a case's float inputs (widened exactly to double) and attaches the bounds
/// the kernel's numerical contract gives. Exactness rules, where the bound is 0:
/// a channel whose variance is exactly 0 must give its mean and a zero variance exactly where the
/// contract makes its mean exact (M = 1, double sums, Welford), and then y = beta exactly when it
/// applies them centred; M = 1 backward gives dx = 0, dgamma = 0, dbeta = dy exactly; a channel with
/// dy all zero gives dx = 0 and zero parameter gradients exactly; an <see cref="ValueFamily.ExactPairs"/>
/// case must give its mean and variance exactly unless the contract is a float Welford (whose updates divide).
/// </summary>
internal static class ExpectedOutputs
{
    /// <summary>The expected outputs of <paramref name="case"/> on <paramref name="inputs"/> with the bounds of <paramref name="contract"/>.</summary>
    public static IReadOnlyList<ExpectedOutput> Compute(VerificationCase @case, CaseInputs inputs, NumericalContract contract)
    {
        var outputs = @case.Pass switch
        {
            BatchNormPass.ForwardTraining => ForwardTraining(@case, inputs, contract),
            BatchNormPass.ForwardInference => ForwardInference(@case, inputs, contract),
            BatchNormPass.BackwardTraining => BackwardTraining(@case, inputs, contract),
            BatchNormPass.BackwardInference => BackwardInference(@case, inputs, contract),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case.Pass, "not a batch norm pass"),
        };
        return @case.Precision == DataPrecision.Float32 ? outputs : outputs.Select(o => Stored(o, @case.Precision)).ToArray();
    }

    /// <summary>
    /// A data output a kernel stores in a reduced precision: it computes v' within the float model
    /// (|v' - v| at most the combined bound C_i) and rounds v' to the nearest value of the format, so
    /// its value a is within half a gap of the format from v': |a - v| ≤ C_i + g(a)/2, g(a) the wider
    /// of the format's two gaps next to a (docs/tolerances.md, "Reduced precision"). That is the
    /// check, element by element: the rounding is far larger than any systematic error the float
    /// model allows, so a fit would only blur it, and a kernel that rounds wrong (toward zero, say)
    /// is a whole gap off where the bound allows half. Per-channel outputs stay float32 and keep their bounds.
    /// </summary>
    private static ExpectedOutput Stored(ExpectedOutput output, DataPrecision precision) =>
        output.PerChannel ? output : output with { Model = null, Precision = precision };

    /// <summary>
    /// The batch statistics of x in double, and how far a kernel's may be from them under its contract:
    /// the mean it returns (MeanBound) and the centre it subtracts (CentreBound), the variance, istd;
    /// ExactMean where the contract makes a zero-variance channel's mean exact.
    /// </summary>
    private sealed record Statistics(double[] Mean, double[] Variance, double[] InvStd, double[] MeanBound, double[] CentreBound, double[] VarianceBound, double[] InvStdBound,
        bool[] ExactMean);

    private static Statistics BatchStatistics(in TensorShape shape, BatchNormOptions options, double[] x, bool exactStatistics, NumericalContract contract)
    {
        int c = shape.C;
        double[] mean = new double[c], variance = new double[c], invStd = new double[c];
        ReferenceBatchNorm.ForwardTraining(shape, options, new ForwardTrainingTensors<double>
        {
            X = x,
            Y = new double[x.Length],
            BatchMean = mean,
            BatchVariance = variance,
            BatchInvStd = invStd,
        });
        // Exact-pairs data makes every float sum exact in any order, and the statistics floats; a float Welford update divides, so not there.
        bool exactByConstruction = exactStatistics && !(contract.Statistics == StatisticsForm.Welford && contract.Sums != Accumulation.Double);
        double[] meanBound = new double[c], centreBound = new double[c], varBound = new double[c], invStdBound = new double[c];
        bool[] exactMean = new bool[c];
        for (int ch = 0; ch < c; ch++)
        {
            double meanAbs = 0, maxAbs = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
            foreach (int i in shape.ChannelOffsets(ch))
            {
                meanAbs += Math.Abs(x[i]);
                maxAbs = Math.Max(maxAbs, Math.Abs(x[i]));
                min = Math.Min(min, x[i]);
                max = Math.Max(max, x[i]);
            }

            var data = new ToleranceModel.ChannelData(shape.M, mean[ch], variance[ch], meanAbs / shape.M, maxAbs, max - min);
            var bound = ToleranceModel.Mean(contract, data);
            exactMean[ch] = bound.Exact;
            bool exact = bound.Exact || exactByConstruction;
            meanBound[ch] = exact ? 0 : bound.Output;
            centreBound[ch] = exact ? 0 : bound.Centre;
            varBound[ch] = exact ? 0 : ToleranceModel.Variance(contract, data, bound);
            invStdBound[ch] = ToleranceModel.InvStd(invStd[ch], variance[ch], options.Epsilon, varBound[ch]);
        }

        return new Statistics(mean, variance, invStd, meanBound, centreBound, varBound, invStdBound, exactMean);
    }

    private static IReadOnlyList<ExpectedOutput> ForwardTraining(VerificationCase @case, CaseInputs inputs, NumericalContract contract)
    {
        var shape = @case.Shape;
        var options = @case.Options;
        int c = shape.C;
        double[] x = Widen(inputs.X), gamma = Widen(inputs.Gamma), beta = Widen(inputs.Beta);
        double[] y = new double[x.Length];
        double[] runMean = Widen(inputs.RunningMean), runVar = Widen(inputs.RunningVariance);
        var stats = BatchStatistics(shape, options, x, @case.Values == ValueFamily.ExactPairs, contract);
        ReferenceBatchNorm.ForwardTraining(shape, options with { Activation = Activation.None }, new ForwardTrainingTensors<double>
        {
            X = x,
            Gamma = gamma,
            Beta = beta,
            Y = y,
            BatchMean = new double[c],
            BatchVariance = new double[c],
            BatchInvStd = new double[c],
            RunningMean = @case.WithRunningStats ? runMean : [],
            RunningVariance = @case.WithRunningStats ? runVar : [],
        });

        var model = StructuredBounds.Y(shape, x, y, contract.Apply,
            ch => new StructuredBounds.YChannel(ChannelParameter.ScaleAt<double>(gamma, ch), ChannelParameter.ShiftAt<double>(beta, ch), stats.Mean[ch], stats.InvStd[ch],
                stats.CentreBound[ch], stats.InvStdBound[ch] / stats.InvStd[ch]),
            ch => stats.ExactMean[ch]);
        (y, model) = Activate(options.Activation, shape, y, model);
        double[] runMeanBound = new double[c], runVarBound = new double[c];
        double w = RunningStatsRule.BatchWeight(options.Convention, options.Momentum);
        double f = RunningStatsRule.UsesUnbiasedVariance(options.Convention) && shape.M > 1 ? (double)shape.M / (shape.M - 1) : 1.0;
        for (int ch = 0; ch < c; ch++)
        {
            runMeanBound[ch] = ToleranceModel.Running(w, inputs.RunningMean[ch], stats.Mean[ch], stats.MeanBound[ch], runMean[ch]);
            runVarBound[ch] = ToleranceModel.Running(w, inputs.RunningVariance[ch], f * stats.Variance[ch], f * stats.VarianceBound[ch], runVar[ch]);
        }

        if (@case.Values == ValueFamily.ExactPairs)
            RequireFloats(stats.Mean, stats.Variance);
        bool welford = contract.Statistics == StatisticsForm.Welford;
        var outputs = new List<ExpectedOutput>
        {
            Elementwise(BatchNormOutput.Y, shape, y, model),
            new(BatchNormOutput.BatchMean, stats.Mean, stats.MeanBound, InfinityMayBeNaN: welford),
            new(BatchNormOutput.BatchVariance, stats.Variance, stats.VarianceBound),
            new(BatchNormOutput.BatchInvStd, stats.InvStd, stats.InvStdBound),
        };
        if (@case.WithRunningStats)
        {
            outputs.Add(new(BatchNormOutput.RunningMean, runMean, runMeanBound, InfinityMayBeNaN: welford));
            outputs.Add(new(BatchNormOutput.RunningVariance, runVar, runVarBound));
        }

        return outputs;
    }

    /// <summary>istd from an exact running variance: add, sqrt, divide, each rounding once (a relative bound of 3u).</summary>
    private static readonly double InferenceInvStdBound = 3 * ToleranceModel.U;

    private static IReadOnlyList<ExpectedOutput> ForwardInference(VerificationCase @case, CaseInputs inputs, NumericalContract contract)
    {
        var shape = @case.Shape;
        double[] x = Widen(inputs.X), gamma = Widen(inputs.Gamma), beta = Widen(inputs.Beta), y = new double[x.Length];
        ReferenceBatchNorm.ForwardInference(shape, @case.Options with { Activation = Activation.None }, new ForwardInferenceTensors<double>
        {
            X = x,
            Gamma = gamma,
            Beta = beta,
            RunningMean = Widen(inputs.RunningMean),
            RunningVariance = Widen(inputs.RunningVariance),
            Y = y,
        });
        var model = StructuredBounds.Y(shape, x, y, contract.Apply,
            ch => new StructuredBounds.YChannel(ChannelParameter.ScaleAt<double>(gamma, ch), ChannelParameter.ShiftAt<double>(beta, ch), inputs.RunningMean[ch],
                ReferenceBatchNorm.InvStd(inputs.RunningVariance[ch], @case.Options.Epsilon), CentreBound: 0, InferenceInvStdBound),
            _ => false);
        (y, model) = Activate(@case.Options.Activation, shape, y, model);
        return [Elementwise(BatchNormOutput.Y, shape, y, model)];
    }

    private static IReadOnlyList<ExpectedOutput> BackwardTraining(VerificationCase @case, CaseInputs inputs, NumericalContract contract)
    {
        var shape = @case.Shape;
        int c = shape.C;
        double[] x = Widen(inputs.X), dy = PassedGradient(inputs), gamma = Widen(inputs.Gamma);
        double[] mean, invStd, meanBound, invStdRelative;
        if (@case.SavedStatisticsFromKernel)
        {
            // The kernel's own saved statistics are unknown: use exact ones and admit its rounding.
            var stats = BatchStatistics(shape, @case.Options, x, exactStatistics: false, contract);
            (mean, invStd, meanBound) = (stats.Mean, stats.InvStd, stats.MeanBound);
            invStdRelative = stats.InvStd.Select((v, ch) => stats.InvStdBound[ch] / v).ToArray();
        }
        else
        {
            (mean, invStd, meanBound, invStdRelative) = (Widen(inputs.SavedMean), Widen(inputs.SavedInvStd), new double[c], new double[c]);
        }

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
        var (dgammaBound, dbetaBound, exact) = ParameterGradientBounds(contract, shape, x, dy, dgamma, dbeta, mean, invStd, meanBound, invStdRelative, termRoundings: 3, training: true);
        var model = StructuredBounds.TrainingDx(shape, x, dy, dx, contract.Apply,
            ch => new StructuredBounds.DxChannel(ChannelParameter.ScaleAt<double>(gamma, ch), mean[ch], invStd[ch], dbeta[ch], dgamma[ch], dbetaBound[ch], dgammaBound[ch],
                meanBound[ch], invStdRelative[ch]),
            ch => exact[ch]);
        return [Elementwise(BatchNormOutput.Dx, shape, dx, model), new(BatchNormOutput.DGamma, dgamma, dgammaBound), new(BatchNormOutput.DBeta, dbeta, dbetaBound)];
    }

    private static IReadOnlyList<ExpectedOutput> BackwardInference(VerificationCase @case, CaseInputs inputs, NumericalContract contract)
    {
        var shape = @case.Shape;
        int c = shape.C;
        double[] x = Widen(inputs.X), dy = PassedGradient(inputs), gamma = Widen(inputs.Gamma), mean = Widen(inputs.RunningMean);
        double[] dx = new double[x.Length], dgamma = new double[c], dbeta = new double[c];
        ReferenceBatchNorm.BackwardInference(shape, @case.Options with { Activation = Activation.None }, new BackwardInferenceTensors<double>
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
        var (dgammaBound, dbetaBound, exact) = ParameterGradientBounds(contract, shape, x, dy, dgamma, dbeta, mean, invStd, new double[c], new double[c], termRoundings: 5, training: false);
        var model = StructuredBounds.InferenceDx(shape, dy, dx, ch => ChannelParameter.ScaleAt<double>(gamma, ch), ch => invStd[ch], ch => exact[ch]);
        return [Elementwise(BatchNormOutput.Dx, shape, dx, model), new(BatchNormOutput.DGamma, dgamma, dgammaBound), new(BatchNormOutput.DBeta, dbeta, dbetaBound)];
    }

    /// <summary>
    /// dgamma and dbeta bounds per channel, and which channels are exact (dy all 0, or M = 1 in
    /// training). With saved statistics of the kernel's own (mean within E_m, istd within ρ
    /// relative), its xhat' = xhat (1+ρ) - E_m istd (1+ρ) moves dgamma by ρ|dgamma| + istd (1+ρ) E_m |dbeta|
    /// and the sum's terms by the same factors.
    /// </summary>
    private static (double[] DGamma, double[] DBeta, bool[] Exact) ParameterGradientBounds(NumericalContract contract, in TensorShape shape, double[] x, double[] dy, double[] dgamma, double[] dbeta,
        double[] mean, double[] invStd, double[] meanBound, double[] invStdRelative, int termRoundings, bool training)
    {
        int c = shape.C;
        long m = shape.M;
        double[] dgammaBound = new double[c], dbetaBound = new double[c];
        bool[] exact = new bool[c];
        for (int ch = 0; ch < c; ch++)
        {
            double sumAbsDy = 0, sumAbsDyXhat = 0, underflowScales = 0;
            foreach (int i in shape.ChannelOffsets(ch))
            {
                sumAbsDy += Math.Abs(dy[i]);
                sumAbsDyXhat += Math.Abs(dy[i] * (x[i] - mean[ch]) * invStd[ch]);
                underflowScales += Math.Max(1, Math.Max(invStd[ch], Math.Abs(dy[i])));
            }

            double rho = invStdRelative[ch], em = meanBound[ch];
            exact[ch] = sumAbsDy == 0 || (training && m == 1);
            dbetaBound[ch] = exact[ch] ? 0 : ToleranceModel.DBeta(contract, m, sumAbsDy, dbeta[ch]);
            double terms = (1 + rho) * (sumAbsDyXhat + (invStd[ch] * em * sumAbsDy));
            dgammaBound[ch] = exact[ch] ? 0
                : ToleranceModel.DGamma(contract, m, terms, dgamma[ch], termRoundings, underflowScales) + (rho * Math.Abs(dgamma[ch])) + (invStd[ch] * (1 + rho) * em * Math.Abs(dbeta[ch]));
        }

        return (dgammaBound, dbetaBound, exact);
    }

    /// <summary>
    /// Fused ReLU on a forward's y (<paramref name="y"/> and <paramref name="model"/> are the plain
    /// batch norm's): the expected values become relu(y), and every element a correct kernel may
    /// have clamped (y at most its combined bound, so the kernel's own value may be 0 or below)
    /// leaves the fit and is held to its combined bound. That stays sound because ReLU is
    /// 1-Lipschitz, |relu(a) - relu(b)| ≤ |a - b|; every other element is positive in both and keeps
    /// the plain model. Without an activation, both come back unchanged.
    /// </summary>
    private static (double[] Y, AffineErrorModel Model) Activate(Activation activation, in TensorShape shape, double[] y, AffineErrorModel model)
    {
        if (activation == Activation.None)
            return (y, model);
        double[] activated = Array.ConvertAll(y, ReferenceBatchNorm.Relu);
        bool[] unfitted = new bool[y.Length];
        for (int c = 0; c < shape.C; c++)
        {
            foreach (int i in shape.ChannelOffsets(c))
                unfitted[i] = !(y[i] > model.CombinedBound(c, i));
        }

        return (activated, model with { Unfitted = unfitted });
    }

    /// <summary>
    /// The gradient the batch norm part of a backward sees, widened: dy, or under a fused ReLU 0
    /// where the forward's y ≤ 0 and dy elsewhere. The gate is an input, so this is exact, and
    /// the plain backward's bounds hold for it unchanged.
    /// </summary>
    private static double[] PassedGradient(CaseInputs inputs)
    {
        double[] dy = Widen(inputs.Dy), forwardY = Widen(inputs.ForwardY);
        return forwardY.Length == 0 ? dy : dy.Select((_, i) => ReferenceBatchNorm.PassedGradient(dy, forwardY, i)).ToArray();
    }

    private static ExpectedOutput Elementwise(BatchNormOutput name, in TensorShape shape, double[] values, AffineErrorModel model)
    {
        double[] bounds = new double[values.Length];
        for (int c = 0; c < shape.C; c++)
        {
            foreach (int i in shape.ChannelOffsets(c))
                bounds[i] = model.CombinedBound(c, i);
        }

        return new ExpectedOutput(name, values, bounds, model);
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
