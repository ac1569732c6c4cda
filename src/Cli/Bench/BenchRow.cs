using System.Globalization;
using System.Text.Json;

namespace BatchNorm.Cli.Bench;

/// <summary>One timed cell: a kernel, layout, shape and pass.</summary>
internal sealed record BenchRow(string Kernel, string Layout, string Shape, string Pass, double Ms, double Gbps, double Roofline)
{
    /// <summary>One JSON object with exactly the fields kernel, layout, shape, pass, ms, gbps, roofline.</summary>
    public string ToJsonLine() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["kernel"] = Kernel,
        ["layout"] = Layout,
        ["shape"] = Shape,
        ["pass"] = Pass,
        ["ms"] = Math.Round(Ms, 4),
        ["gbps"] = Math.Round(Gbps, 2),
        ["roofline"] = Math.Round(Roofline, 3),
    });

    public string[] Cells() =>
    [
        Kernel, Layout, Shape, Pass, Ms.ToString("0.000", CultureInfo.InvariantCulture), Gbps.ToString("0.0", CultureInfo.InvariantCulture),
        Roofline.ToString("0.00", CultureInfo.InvariantCulture),
    ];
}
