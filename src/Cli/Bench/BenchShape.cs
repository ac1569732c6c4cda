namespace BatchNorm.Cli.Bench;

/// <summary>A benchmark shape: (N, C, H, W), or (N, C) for a dense layer.</summary>
internal sealed record BenchShape(int N, int C, int H, int W, bool Dense)
{
    /// <summary>The four 4-D shapes the anchors time, and two dense layers.</summary>
    public static IReadOnlyList<BenchShape> Defaults { get; } =
    [
        new(32, 64, 56, 56, false), new(256, 1024, 1, 1, false), new(64, 256, 14, 14, false), new(8, 32, 112, 112, false),
        new(1024, 512, 1, 1, true), new(64, 50, 1, 1, true),
    ];

    /// <summary>"32x64x56x56", or "1024x512" for dense.</summary>
    public string Name => Dense ? $"{N}x{C}" : $"{N}x{C}x{H}x{W}";

    public TensorShape In(Layout layout) => new(N, C, H * W, layout);
}
