namespace BatchNorm.Harness.Cases;

/// <summary>
/// The float inputs of one case, drawn from its seed. Backward training's saved statistics are the
/// reference's batch statistics of x rounded to float, as a forward pass would hand them over.
/// </summary>
internal sealed record CaseInputs
{
    public required float[] X { get; init; }

    public required float[] Gamma { get; init; }

    public required float[] Beta { get; init; }

    public required float[] RunningMean { get; init; }

    public required float[] RunningVariance { get; init; }

    public required float[] Dy { get; init; }

    public required float[] SavedMean { get; init; }

    public required float[] SavedInvStd { get; init; }

    /// <summary>
    /// Fused-ReLU backward cases: the forward's y, relu(gamma (x - mean) istd + beta) with the
    /// statistics the backward uses (the saved ones, or the running ones), rounded to float; empty otherwise.
    /// </summary>
    public float[] ForwardY { get; init; } = [];

    /// <summary>The input of that name.</summary>
    public float[] this[BatchNormInput input] => input switch
    {
        BatchNormInput.X => X,
        BatchNormInput.Gamma => Gamma,
        BatchNormInput.Beta => Beta,
        BatchNormInput.RunningMean => RunningMean,
        BatchNormInput.RunningVariance => RunningVariance,
        BatchNormInput.Dy => Dy,
        BatchNormInput.SavedMean => SavedMean,
        BatchNormInput.SavedInvStd => SavedInvStd,
        BatchNormInput.ForwardY => ForwardY,
        _ => throw new ArgumentOutOfRangeException(nameof(input), input, "not a batch norm input"),
    };

    /// <summary>These inputs with the saved statistics a forward pass on x would hand over.</summary>
    public CaseInputs WithSavedStatistics(in TensorShape shape, BatchNormOptions options)
    {
        (float[] mean, float[] invStd) = SavedStatistics(shape, options, X);
        return this with { SavedMean = mean, SavedInvStd = invStd };
    }

    /// <summary>Draws the inputs of a case.</summary>
    public static CaseInputs Draw(VerificationCase @case, int suiteSeed)
    {
        var random = new Random(@case.SeedFor(suiteSeed));
        var shape = @case.Shape;
        int c = shape.C;
        float[] x = DrawX(@case, random);
        float[] gamma = @case.Gamma switch
        {
            GammaKind.Absent => [],
            GammaKind.Zero => new float[c],
            GammaKind.Negative => Fill(c, () => (float)(-0.5 - random.NextDouble())),
            GammaKind.Random => Fill(c, () => (float)(0.5 + random.NextDouble())),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case.Gamma, "not a gamma kind"),
        };
        float[] beta = @case.WithBeta ? Fill(c, () => (float)(random.NextDouble() * 2 - 1)) : [];
        // A fused ReLU's cases shift by |beta|, so that it clamps at most about half of a channel of
        // symmetric data: a channel it clamps whole says nothing about the batch norm beneath.
        if (@case.Options.Activation == Activation.Relu)
            beta = Array.ConvertAll(beta, MathF.Abs);

        // Running statistics near the data's own, so inference outputs are of ordinary size.
        float[] runMean = new float[c], runVar = new float[c];
        double scale = Math.Abs(@case.Spread);
        for (int ch = 0; ch < c; ch++)
        {
            runMean[ch] = (float)(@case.Offset + scale * 0.1 * Normal(random));
            runVar[ch] = (float)(scale * scale * (0.5 + random.NextDouble()));
        }

        float[] dy = @case.ZeroDy ? new float[x.Length] : Fill(x.Length, () => (float)Normal(random));
        // A reduced-precision kernel's data tensors hold values of its format: the drawn ones, rounded to it.
        x = Array.ConvertAll(x, v => DataPrecisions.Round(v, @case.Precision));
        dy = Array.ConvertAll(dy, v => DataPrecisions.Round(v, @case.Precision));
        (float[] savedMean, float[] savedInvStd) = SavedStatistics(shape, @case.Options, x);
        return new CaseInputs { X = x, Gamma = gamma, Beta = beta, RunningMean = runMean, RunningVariance = runVar, Dy = dy, SavedMean = savedMean, SavedInvStd = savedInvStd }
            .WithForwardY(@case);
    }

    /// <summary>These inputs with the forward y a fused-ReLU backward case hands over (<see cref="ForwardY"/>), in the case's format; empty for any other case.</summary>
    public CaseInputs WithForwardY(VerificationCase @case) =>
        this with { ForwardY = Array.ConvertAll(ForwardYOf(@case, this), v => DataPrecisions.Round(v, @case.Precision)) };

    /// <summary>The forward y a fused-ReLU backward case hands over (<see cref="ForwardY"/>); empty for any other case.</summary>
    private static float[] ForwardYOf(VerificationCase @case, CaseInputs inputs)
    {
        bool training = @case.Pass == BatchNormPass.BackwardTraining;
        if (@case.Options.Activation != Activation.Relu || !(training || @case.Pass == BatchNormPass.BackwardInference))
            return [];
        var shape = @case.Shape;
        float[] y = new float[shape.ElementCount];
        for (int c = 0; c < shape.C; c++)
        {
            double mean = training ? inputs.SavedMean[c] : inputs.RunningMean[c];
            double invStd = training ? inputs.SavedInvStd[c] : Reference.ReferenceBatchNorm.InvStd(inputs.RunningVariance[c], @case.Options.Epsilon);
            double gamma = ChannelParameter.ScaleAt<float>(inputs.Gamma, c), beta = ChannelParameter.ShiftAt<float>(inputs.Beta, c);
            foreach (int i in shape.ChannelOffsets(c))
                y[i] = (float)Reference.ReferenceBatchNorm.Relu(gamma * (inputs.X[i] - mean) * invStd + beta);
        }

        return y;
    }

    private static float[] DrawX(VerificationCase @case, Random random)
    {
        var shape = @case.Shape;
        float[] x = new float[shape.ElementCount];
        double[] channelScale = Enumerable.Range(0, shape.C).Select(_ => Math.Pow(10, random.NextDouble() * 6 - 3)).ToArray();
        for (int c = 0; c < shape.C; c++)
        {
            int k = 0;
            foreach (int i in shape.ChannelOffsets(c))
            {
                x[i] = @case.Values switch
                {
                    ValueFamily.Uniform => (float)(@case.Offset + @case.Spread * (random.NextDouble() * 2 - 1)),
                    ValueFamily.ExactPairs => ExactPair(@case, random, k, x, shape, c),
                    ValueFamily.MixedScales => (float)(@case.Offset + channelScale[c] * Normal(random)),
                    ValueFamily.Subnormal => (float)((k % 8 == 7 ? 1e-41 : 1e-38) * Normal(random)),
                    ValueFamily.Normal => (float)(@case.Offset + @case.Spread * Normal(random)),
                    _ => throw new ArgumentOutOfRangeException(nameof(@case), @case.Values, "not a value family"),
                };
                k++;
            }
        }

        int featured = shape.C > 1 ? 1 : 0;
        switch (@case.Feature)
        {
            case ChannelFeature.NaN:
                x[shape.IndexOf(shape.N / 2, featured, shape.S / 2)] = float.NaN;
                break;
            case ChannelFeature.Infinity:
                x[shape.IndexOf(shape.N / 2, featured, shape.S / 2)] = float.PositiveInfinity;
                break;
            case ChannelFeature.Constant:
                float value = (float)(@case.Offset + @case.Spread * 0.3);
                foreach (int i in shape.ChannelOffsets(0))
                    x[i] = value;
                break;
            case ChannelFeature.None:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(@case), @case.Feature, "not a channel feature");
        }

        return x;
    }

    /// <summary>Even k: offset + j·2^-8; odd k: offset - j·2^-8 with the same j, so each pair sums to 2·offset exactly.</summary>
    private static float ExactPair(VerificationCase @case, Random random, int k, float[] x, in TensorShape shape, int c)
    {
        if (k % 2 == 1)
        {
            // The previous value of this channel in logical order is the pair's first half.
            int n = (k - 1) / shape.S, s = (k - 1) % shape.S;
            return (float)(2 * @case.Offset - x[shape.IndexOf(n, c, s)]);
        }

        return (float)(@case.Offset + random.Next(-64, 65) * Math.ScaleB(1, -8));
    }

    private static (float[] Mean, float[] InvStd) SavedStatistics(in TensorShape shape, BatchNormOptions options, float[] x)
    {
        double[] xd = Array.ConvertAll(x, v => (double)v);
        double[] mean = new double[shape.C], variance = new double[shape.C], invStd = new double[shape.C];
        Reference.ReferenceBatchNorm.ForwardTraining(shape, options, new ForwardTrainingTensors<double>
        {
            X = xd,
            Y = new double[x.Length],
            BatchMean = mean,
            BatchVariance = variance,
            BatchInvStd = invStd,
        });
        return (Array.ConvertAll(mean, v => (float)v), Array.ConvertAll(invStd, v => (float)v));
    }

    private static float[] Fill(int length, Func<float> next)
    {
        float[] values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = next();
        return values;
    }

    /// <summary>A standard normal variate (Box-Muller), from System.Random's seeded, version-stable stream.</summary>
    public static double Normal(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
