using BatchNorm.Harness.Cases;

namespace BatchNorm.Tests.Snapshots;

/// <summary>The fixed, seeded, small cases whose every bit is reviewed.</summary>
internal static class SnapshotCases
{
    public const int Seed = 20261121;

    public static IReadOnlyList<VerificationCase> All { get; } =
    [
        Case("dense-4x5", 4, 5, 1, Layout.ChannelsLast, BatchNormPass.ForwardTraining),
        Case("conv-nchw-2x3x2x3", 2, 3, 6, Layout.ChannelsFirst, BatchNormPass.ForwardTraining),
        Case("conv-nhwc-2x3x2x3", 2, 3, 6, Layout.ChannelsLast, BatchNormPass.ForwardTraining),
        Case("m1", 1, 6, 1, Layout.ChannelsLast, BatchNormPass.ForwardTraining) with { Options = BatchNormOptions.For(RunningStatsConvention.Keras) },
        Case("constant-channel", 4, 3, 5, Layout.ChannelsFirst, BatchNormPass.ForwardTraining) with { Feature = ChannelFeature.Constant, Offset = 100 },
        Case("large-mean", 4, 2, 8, Layout.ChannelsFirst, BatchNormPass.ForwardTraining) with { Values = ValueFamily.Uniform, Offset = 1e4, Spread = 1e-2 },
        Case("nan-channel", 3, 3, 4, Layout.ChannelsLast, BatchNormPass.ForwardTraining) with { Feature = ChannelFeature.NaN },
        Case("backward", 3, 4, 5, Layout.ChannelsFirst, BatchNormPass.BackwardTraining),
        Case("backward-inference", 3, 4, 5, Layout.ChannelsLast, BatchNormPass.BackwardInference),
        Case("relu-conv-nhwc-2x3x2x3", 2, 3, 6, Layout.ChannelsLast, BatchNormPass.ForwardTraining) with { Options = Relu },
        Case("relu-nan-channel", 3, 3, 4, Layout.ChannelsLast, BatchNormPass.ForwardInference) with { Feature = ChannelFeature.NaN, Options = Relu },
        Case("relu-backward", 3, 4, 5, Layout.ChannelsFirst, BatchNormPass.BackwardTraining) with { Options = Relu },
    ];

    private static BatchNormOptions Relu => BatchNormOptions.PyTorch with { Activation = Activation.Relu };

    private static VerificationCase Case(string name, int n, int c, int s, Layout layout, BatchNormPass pass) =>
        new() { Name = name, Shape = new TensorShape(n, c, s, layout), Pass = pass };
}
