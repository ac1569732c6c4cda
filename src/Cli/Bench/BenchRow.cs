using System.Globalization;
using System.Text.Json;
using BatchNorm.Harness.Benchmarks;
using BatchNorm.Optimized;

namespace BatchNorm.Cli.Bench;

/// <summary>A kernel's time against an anchor timed in the same rounds on the same buffers.</summary>
/// <param name="Anchor">The anchor kernel's name.</param>
/// <param name="AnchorMs">The anchor's median ms.</param>
/// <param name="Ratio">Median over rounds of (ours / anchor): below 1 is faster.</param>
/// <param name="Low">The 25th percentile of the per-round ratios.</param>
/// <param name="High">The 75th percentile: with <paramref name="Low"/>, the spread.</param>
/// <param name="Drift">How the anchor's own time moved over the rounds.</param>
internal sealed record AnchorRatio(string Anchor, double AnchorMs, double Ratio, double Low, double High, RoundDrift Drift)
{
    /// <summary>The 25th and 75th percentiles of the anchor's own ms: what a run of the cell alone is compared with.</summary>
    public (double Low, double High) AnchorSpread { get; init; }
}

/// <summary>One timed cell: a kernel, layout, shape, pass and activation, and its ratio to each anchor timed in the same rounds.</summary>
internal sealed record BenchRow(string Kernel, string Layout, string Shape, string Pass, string Activation, double Ms, double Gbps, double Roofline, IReadOnlyList<AnchorRatio> Versus)
{
    /// <summary>The anchor to beat: the fastest one timed and verified, or null when none was.</summary>
    public AnchorRatio? Best => Versus.Where(v => Verified(v.Anchor)).MinBy(v => v.AnchorMs);

    /// <summary>The verification of each timed computation in this sitting: the kernel's first, then each anchor's.</summary>
    public IReadOnlyList<AnchorCheck> Checks { get; init; } = [];

    /// <summary>The 25th and 75th percentiles of our ms over the rounds.</summary>
    public (double Low, double High) Spread { get; init; }

    /// <summary>The memory policies the optimized kernel's tuner chose for this cell's pass and shape (empty for another kernel).</summary>
    public IReadOnlyList<string> Policies { get; init; } = [];

    /// <summary>What each tuning behind <see cref="Policies"/> measured, round by round (the first, then a confirmation): every candidate policy with the median ms of its timed calls.</summary>
    public IReadOnlyList<IReadOnlyList<(MemoryPolicy Policy, double MedianMs)>> Tuning { get; init; } = [];

    /// <summary>How our kernel's time moved over the rounds.</summary>
    public RoundDrift Drift { get; init; }

    /// <summary>The participants (ours first) whose time depended on where in the cell it was taken (<see cref="RoundDrift"/>).</summary>
    public IEnumerable<string> Drifted => (Drift.Outside ? [Kernel] : Array.Empty<string>()).Concat(Versus.Where(v => v.Drift.Outside).Select(v => v.Anchor));

    /// <summary>True when every timed computation of the cell passed its check.</summary>
    public bool AllVerified => Checks.All(c => c.Passed);

    private bool Verified(string name) => Checks.FirstOrDefault(c => c.Kernel == name)?.Passed ?? true;

    /// <summary>
    /// One JSON object: kernel, layout, shape, pass, activation (none or relu), ms, gbps, roofline, policy (the tuned memory
    /// policies ours ran with, "cached/Rows" or "streamed/Columns"; empty when its calls stay in cache), tuning (for each
    /// round of the tunings behind them, the first round and a confirmation, every candidate's policy and the median ms of its timed calls); anchor, anchor_ms, ratio,
    /// ratio_p25, ratio_p75 of the best (fastest) anchor, null when none was timed; and anchors, every
    /// anchor's figures under the same names.
    /// </summary>
    public string ToJsonLine() => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["kernel"] = Kernel,
        ["layout"] = Layout,
        ["shape"] = Shape,
        ["pass"] = Pass,
        ["activation"] = Activation,
        ["ms"] = Math.Round(Ms, 4),
        ["ms_p25"] = Math.Round(Spread.Low, 4),
        ["ms_p75"] = Math.Round(Spread.High, 4),
        ["gbps"] = Math.Round(Gbps, 2),
        ["roofline"] = Math.Round(Roofline, 3),
        ["drift"] = Math.Round(Drift.Ratio, 3),
        ["llc"] = LastLevelCache.Description,
        ["policy"] = Policies.ToArray(),
        ["tuning"] = Tuning.Select(t => t.Select(f => new Dictionary<string, object> { ["policy"] = f.Policy.ToString(), ["ms"] = Math.Round(f.MedianMs, 4) }).ToArray()).ToArray(),
        ["anchor"] = Best?.Anchor,
        ["anchor_ms"] = Best is null ? null : Math.Round(Best.AnchorMs, 4),
        ["ratio"] = Best is null ? null : Math.Round(Best.Ratio, 3),
        ["ratio_p25"] = Best is null ? null : Math.Round(Best.Low, 3),
        ["ratio_p75"] = Best is null ? null : Math.Round(Best.High, 3),
        ["checks"] = Checks.Select(c => new Dictionary<string, object> { ["kernel"] = c.Kernel, ["passed"] = c.Passed, ["summary"] = c.Summary }).ToArray(),
        ["anchors"] = Versus.Select(v => new Dictionary<string, object>
        {
            ["anchor"] = v.Anchor,
            ["anchor_ms"] = Math.Round(v.AnchorMs, 4),
            ["anchor_ms_p25"] = Math.Round(v.AnchorSpread.Low, 4),
            ["anchor_ms_p75"] = Math.Round(v.AnchorSpread.High, 4),
            ["ratio"] = Math.Round(v.Ratio, 3),
            ["ratio_p25"] = Math.Round(v.Low, 3),
            ["ratio_p75"] = Math.Round(v.High, 3),
            ["drift"] = Math.Round(v.Drift.Ratio, 3),
        }).ToArray(),
        ["drifted"] = Drifted.ToArray(),
    });

    /// <summary>
    /// The table's cells: kernel to roofline (the pass named relu/... under a fused ReLU, as verify names its cases), then for
    /// each anchor its ms and ratio (p25-p75), and whether every timed computation passed its check.
    /// </summary>
    public string[] Cells() =>
    [
        Kernel, Layout, Shape, Activation == "none" ? Pass : $"{Activation}/{Pass}", Ms.ToString("0.000", CultureInfo.InvariantCulture), Gbps.ToString("0.0", CultureInfo.InvariantCulture),
        Roofline.ToString("0.00", CultureInfo.InvariantCulture),
        .. Versus.SelectMany(v => new[]
        {
            v.AnchorMs.ToString("0.000", CultureInfo.InvariantCulture),
            Verified(v.Anchor) ? string.Create(CultureInfo.InvariantCulture, $"{v.Ratio:0.00} ({v.Low:0.00}-{v.High:0.00})") : "not batch norm: failed its check",
        }),
        Checks.Count == 0 ? "-" : AllVerified ? "all passed" : "FAILED: " + string.Join(", ", Checks.Where(c => !c.Passed).Select(c => c.Kernel)),
    ];
}
