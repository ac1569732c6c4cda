namespace BatchNorm.Harness.Cases;

/// <summary>
/// The named, seeded battery of cases. Names read family/layout/pass, e.g.
/// "large-mean-1e4/nhwc/train"; each case's seed is the suite seed combined with a hash of its name.
/// </summary>
internal static class Battery
{
    /// <summary>The suite's seed unless --seed gives another.</summary>
    public const int DefaultSeed = 20261121;

    /// <summary>
    /// The suite's cases. With an activation other than None, every case fuses it and its name starts
    /// with the activation's, e.g. "relu/normal/nchw/train": the same data, so a fused kernel is held
    /// to the same conditioning, degenerate channels and tails as a plain one. With a reduced data
    /// precision, every case's data tensors are in that format and its name starts with the
    /// format's, e.g. "bf16/relu/normal/nchw/train"; the cases it cannot hold are left out
    /// (<see cref="Holds"/>).
    /// </summary>
    public static IReadOnlyList<VerificationCase> For(Suite suite, Activation activation = Activation.None, DataPrecision precision = DataPrecision.Float32)
    {
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "not an activation");
        string prefix = NamePrefix(activation, precision);
        return Plain(suite).Where(k => Holds(k, precision))
            .Select(k => k with { Name = prefix + k.Name, Options = k.Options with { Activation = activation }, Precision = precision }).ToList();
    }

    /// <summary>How the names of a variant's cases start: "" for plain float32, else e.g. "relu/", "bf16/" or "bf16/relu/".</summary>
    public static string NamePrefix(Activation activation, DataPrecision precision) =>
        (precision == DataPrecision.Float32 ? "" : $"{precision.ShortName()}/") + (activation == Activation.None ? "" : $"{activation.Short()}/");

    /// <summary>Every case of every suite, activation and precision, once each: the names a baseline or an export may use.</summary>
    public static IEnumerable<VerificationCase> Every() =>
        from suite in Enum.GetValues<Suite>()
        from activation in Enum.GetValues<Activation>()
        from precision in Enum.GetValues<DataPrecision>()
        from @case in For(suite, activation, precision)
        group @case by @case.Name into named
        select named.First();

    /// <summary>
    /// Whether a case's data survives rounding to the format: not an exact-pairs case (its pairs
    /// sum exactly only in float), and for float16 no value beyond its largest finite 65504 (offset
    /// plus 8 spreads, which a normal draw does not exceed).
    /// </summary>
    public static bool Holds(VerificationCase @case, DataPrecision precision) => precision switch
    {
        DataPrecision.Float32 => true,
        DataPrecision.BFloat16 => @case.Values != ValueFamily.ExactPairs,
        DataPrecision.Float16 => @case.Values != ValueFamily.ExactPairs && Math.Abs(@case.Offset) + (8 * Math.Abs(@case.Spread)) <= 65504,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "not a data precision"),
    };

    private static List<VerificationCase> Plain(Suite suite)
    {
        bool full = suite == Suite.Full;
        var cases = new List<VerificationCase>();
        var bothLayouts = new[] { Layout.ChannelsFirst, Layout.ChannelsLast };
        var allPasses = Enum.GetValues<BatchNormPass>();
        var forwardAndBackward = new[] { BatchNormPass.ForwardTraining, BatchNormPass.BackwardTraining };

        void Add(string family, int n, int c, int s, Layout[] layouts, BatchNormPass[] passes, Func<VerificationCase, VerificationCase>? tune = null)
        {
            foreach (var layout in layouts)
            {
                foreach (var pass in passes)
                {
                    var @case = new VerificationCase
                    {
                        Name = $"{family}/{layout.Short()}/{PassName(pass)}",
                        Shape = new TensorShape(n, c, s, layout),
                        Pass = pass,
                    };
                    cases.Add(tune is null ? @case : tune(@case));
                }
            }
        }

        var keras = BatchNormOptions.For(RunningStatsConvention.Keras);
        var onnx = BatchNormOptions.For(RunningStatsConvention.Onnx);

        // Ordinary data: the tightness figure comes from here.
        Add("normal", 8, 16, 49, bothLayouts, allPasses);
        Add("uniform", 4, 24, 33, [Layout.ChannelsFirst], forwardAndBackward, k => k with { Values = ValueFamily.Uniform, Options = keras });
        Add("dense", 64, 50, 1, [Layout.ChannelsLast], allPasses, k => k with { Options = onnx });
        Add("mixed-scales", 8, 12, 30, [Layout.ChannelsLast], forwardAndBackward, k => k with { Values = ValueFamily.MixedScales });

        // Conditioning: a mean that dwarfs the spread, tiny and huge magnitudes.
        Add("large-mean-1e4", 16, 8, 64, bothLayouts, forwardAndBackward, k => k with { Values = ValueFamily.Uniform, Offset = 1e4, Spread = 1e-2 });
        Add("large-mean-1e6", 8, 4, 128, full ? bothLayouts : [Layout.ChannelsFirst], full ? forwardAndBackward : [BatchNormPass.ForwardTraining],
            k => k with { Offset = 1e6, Spread = 1 });
        Add("subnormal", 8, 4, 32, [Layout.ChannelsFirst], forwardAndBackward, k => k with { Values = ValueFamily.Subnormal, Spread = 1e-38 });
        Add("large-1e18", 8, 4, 32, [Layout.ChannelsLast], forwardAndBackward, k => k with { Spread = 1e18 });
        if (full)
            Add("large-4e18", 8, 4, 32, bothLayouts, forwardAndBackward, k => k with { Spread = 4e18, Offset = 1e18 });

        // Exactness by construction: mean and variance are floats and must match exactly.
        Add("exact-pairs", 16, 4, 16, bothLayouts, [BatchNormPass.ForwardTraining], k => k with { Values = ValueFamily.ExactPairs, Offset = 3 });

        // Degenerate channels.
        Add("constant-channel", 8, 6, 20, bothLayouts, forwardAndBackward, k => k with { Feature = ChannelFeature.Constant, Offset = 100, Spread = 1 });
        Add("m1-keras", 1, 300, 1, [Layout.ChannelsLast], [BatchNormPass.ForwardTraining], k => k with { Options = keras });
        Add("m1-no-running", 1, 300, 1, [Layout.ChannelsLast], [BatchNormPass.ForwardTraining], k => k with { WithRunningStats = false });
        Add("m1", 1, 300, 1, [Layout.ChannelsLast], [BatchNormPass.BackwardTraining], k => k with { AboutZeros = true });
        Add("m1", 1, 300, 1, [Layout.ChannelsLast], [BatchNormPass.ForwardInference, BatchNormPass.BackwardInference]);
        Add("n1", 1, 6, 250, [Layout.ChannelsFirst], forwardAndBackward);
        Add("c1-large-m", 4, 1, 40_000, [Layout.ChannelsFirst], forwardAndBackward);

        // Tails: M around multiples of 16, 32, 64 (channels-first runs), C = 1..70 (channels-last rows).
        int[] tails = full ? [1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 97, 127, 128, 129] : [15, 33, 63, 65];
        foreach (int m in tails)
            Add($"m-tail-{m}", 1, 5, m, [Layout.ChannelsFirst], full ? forwardAndBackward : [BatchNormPass.ForwardTraining], k => m == 1 ? k with { AboutZeros = true, Options = keras } : k);
        int[] channels = full ? Enumerable.Range(1, 70).ToArray() : [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70];
        foreach (int c in channels)
            Add($"c-tail-{c}", 1, c, 37, [Layout.ChannelsLast], full ? allPasses : [BatchNormPass.ForwardTraining]);

        // Non-finite values stay in their channel.
        Add("nan-channel", 6, 4, 20, bothLayouts, full ? allPasses : [BatchNormPass.ForwardTraining, BatchNormPass.ForwardInference, BatchNormPass.BackwardTraining],
            k => k with { Feature = ChannelFeature.NaN });
        Add("inf-channel", 6, 4, 20, full ? bothLayouts : [Layout.ChannelsFirst], [BatchNormPass.ForwardTraining, BatchNormPass.ForwardInference],
            k => k with { Feature = ChannelFeature.Infinity });

        // Parameters.
        Add("gamma-zero", 4, 8, 25, [Layout.ChannelsFirst], [BatchNormPass.ForwardTraining], k => k with { Gamma = GammaKind.Zero });
        Add("gamma-zero", 4, 8, 25, [Layout.ChannelsFirst], [BatchNormPass.BackwardTraining, BatchNormPass.BackwardInference],
            k => k with { Gamma = GammaKind.Zero, AboutZeros = true });
        Add("gamma-negative", 4, 8, 25, bothLayouts, full ? allPasses : forwardAndBackward, k => k with { Gamma = GammaKind.Negative });
        Add("no-affine", 4, 8, 25, [Layout.ChannelsLast], [BatchNormPass.ForwardTraining, BatchNormPass.ForwardInference],
            k => k with { Gamma = GammaKind.Absent, WithBeta = false });
        double[] epsilons = full ? [1e-8, 1e-5, 1e-3, 1e-1] : [1e-8, 1e-1];
        foreach (double eps in epsilons)
        {
            Add(FormattableString.Invariant($"eps-{eps:0e0}"), 4, 8, 25, [Layout.ChannelsFirst], full ? allPasses : forwardAndBackward,
                k => k with { Options = k.Options with { Epsilon = eps }, Spread = 1e-3 });
        }

        foreach (var convention in Enum.GetValues<RunningStatsConvention>())
        {
            Add($"running-{convention.ToString().ToLowerInvariant()}", 4, 8, 25, [Layout.ChannelsFirst], [BatchNormPass.ForwardTraining],
                k => k with { Options = BatchNormOptions.For(convention) with { Momentum = 0.3 } });
        }

        Add("dy-zero", 4, 8, 25, bothLayouts, [BatchNormPass.BackwardTraining, BatchNormPass.BackwardInference], k => k with { ZeroDy = true, AboutZeros = true });

        if (full)
        {
            Add("resnet-block", 8, 64, 196, bothLayouts, allPasses);
            Add("wide-dense", 256, 1024, 1, [Layout.ChannelsLast], allPasses, k => k with { Options = keras });
            Add("long-channel", 2, 3, 65_537, [Layout.ChannelsFirst], forwardAndBackward);
        }

        return cases;
    }

    /// <summary>The short name a case uses for its pass.</summary>
    public static string PassName(BatchNormPass pass) => pass switch
    {
        BatchNormPass.ForwardTraining => "train",
        BatchNormPass.ForwardInference => "infer",
        BatchNormPass.BackwardTraining => "backward-train",
        BatchNormPass.BackwardInference => "backward-infer",
        _ => throw new ArgumentOutOfRangeException(nameof(pass), pass, "not a batch norm pass"),
    };
}
