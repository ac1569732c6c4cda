using System.Globalization;
using System.Text.Json;

namespace BatchNorm.Cli.Bench;

/// <summary>A kernel's time against an anchor timed in the same rounds on the same buffers.</summary>
/// <param name="Anchor">The anchor kernel's name.</param>
/// <param name="AnchorMs">The anchor's median ms.</param>
/// <param name="Ratio">Median over rounds of (ours / anchor): below 1 is faster.</param>
/// <param name="Low">The 25th percentile of the per-round ratios.</param>
/// <param name="High">The 75th percentile: with <paramref name="Low"/>, the spread.</param>
internal sealed record AnchorRatio(string Anchor, double AnchorMs, double Ratio, double Low, double High);

/// <summary>One timed cell: a kernel, layout, shape and pass, and its ratio to an anchor when one was timed.</summary>
internal sealed record BenchRow(string Kernel, string Layout, string Shape, string Pass, double Ms, double Gbps, double Roofline, AnchorRatio? Versus = null)
{
    /// <summary>One JSON object: kernel, layout, shape, pass, ms, gbps, roofline, and anchor, anchor_ms, ratio, ratio_p25, ratio_p75 when an anchor was timed.</summary>
    public string ToJsonLine() => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["kernel"] = Kernel,
        ["layout"] = Layout,
        ["shape"] = Shape,
        ["pass"] = Pass,
        ["ms"] = Math.Round(Ms, 4),
        ["gbps"] = Math.Round(Gbps, 2),
        ["roofline"] = Math.Round(Roofline, 3),
        ["anchor"] = Versus?.Anchor,
        ["anchor_ms"] = Versus is null ? null : Math.Round(Versus.AnchorMs, 4),
        ["ratio"] = Versus is null ? null : Math.Round(Versus.Ratio, 3),
        ["ratio_p25"] = Versus is null ? null : Math.Round(Versus.Low, 3),
        ["ratio_p75"] = Versus is null ? null : Math.Round(Versus.High, 3),
    });

    public string[] Cells() =>
    [
        Kernel, Layout, Shape, Pass, Ms.ToString("0.000", CultureInfo.InvariantCulture), Gbps.ToString("0.0", CultureInfo.InvariantCulture),
        Roofline.ToString("0.00", CultureInfo.InvariantCulture),
        Versus is null ? "-" : Versus.Anchor,
        Versus is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{Versus.Ratio:0.00} ({Versus.Low:0.00}-{Versus.High:0.00})"),
    ];
}
