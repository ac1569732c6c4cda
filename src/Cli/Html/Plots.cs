using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Reports;
using ScottPlot;

namespace BatchNorm.Cli.Html;

/// <summary>
/// The HTML report's pictures, drawn with ScottPlot as PNG bytes (the page embeds them, so it needs nothing beside
/// it). Counts are drawn on a log scale, log10(1 + count), because a passing output has millions of elements far
/// below its bound and a failing one may have a handful above it: on a linear scale those would not show.
/// </summary>
internal static class Plots
{
    private const int Width = 560, Height = 300;

    private static readonly Color Exact = Color.FromHex("#9e9e9e"), Pass = Color.FromHex("#1f77b4"), Fail = Color.FromHex("#d62728");

    /// <summary>Bars of how many elements fall in each error/bound decade; the bins at or above 1 (failing) in red.</summary>
    public static byte[] RatioHistogram(string output, ErrorHistogram histogram)
    {
        var plot = new Plot();
        long[] counts = histogram.ByRatio();
        var bars = new List<Bar>();
        for (int k = 0; k < counts.Length; k++)
        {
            var colour = k == 0 ? Exact : k >= ErrorHistogram.FirstFailingRatioBin ? Fail : Pass;
            bars.Add(new Bar { Position = k, Value = Math.Log10(1 + counts[k]), FillColor = colour, LineWidth = 0 });
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, counts.Length).Select(k => (double)k)], ErrorHistogram.RatioLabels);
        LogCountTicks(plot.Axes.Left, counts.Max());
        plot.Axes.Margins(bottom: 0);
        plot.Title($"{output}: elements by error/bound");
        plot.XLabel("error/bound (decade; above 1 fails)");
        plot.YLabel("elements");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>A map of element counts by magnitude (|expected| over the output's largest) against error/bound.</summary>
    public static byte[] MagnitudeMap(string output, ErrorHistogram histogram)
    {
        var plot = new Plot();
        int rows = ErrorHistogram.MagnitudeLabels.Length, columns = ErrorHistogram.RatioLabels.Length;
        double[,] cells = new double[rows, columns];
        for (int m = 0; m < rows; m++)
        {
            for (int r = 0; r < columns; r++)
                cells[m, r] = histogram[m, r] == 0 ? double.NaN : Math.Log10(1 + histogram[m, r]);
        }

        var map = plot.Add.Heatmap(cells);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.NaNCellColor = Colors.White;
        map.Extent = new CoordinateRect(-0.5, columns - 0.5, rows - 0.5, -0.5);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, columns).Select(k => (double)k)], ErrorHistogram.RatioLabels);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows).Select(k => (double)k)], ErrorHistogram.MagnitudeLabels);
        plot.Axes.SetLimits(-0.5, columns - 0.5, rows - 0.5, -0.5);
        plot.Add.VerticalLine(ErrorHistogram.FirstFailingRatioBin - 0.5, 2, Fail);
        plot.Title($"{output}: error/bound against magnitude");
        plot.XLabel("error/bound");
        plot.YLabel("|expected| / largest");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>The damaged share of each cell of <paramref name="grid"/>, white where nothing is damaged.</summary>
    public static byte[] DamageMap(string title, DamageGrid grid, bool elementwise)
    {
        var plot = new Plot();
        // ScottPlot 5.1 draws nothing for a heatmap one cell high or wide: such a grid is drawn as two equal cells a cell.
        int rows = Math.Max(2, grid.Rows), columns = Math.Max(2, grid.Columns);
        double[,] cells = new double[rows, columns];
        for (int row = 0; row < rows; row++)
        {
            for (int column = 0; column < columns; column++)
            {
                double share = grid.Cells[row * grid.Rows / rows, column * grid.Columns / columns];
                cells[row, column] = share == 0 ? double.NaN : share;
            }
        }

        var map = plot.Add.Heatmap(cells);
        map.Colormap = new ScottPlot.Colormaps.Inferno().Reversed();
        map.NaNCellColor = Colors.White;
        map.ManualRange = new ScottPlot.Range(0, 1);
        // One axis unit per channel or position, so the ticks read as indices.
        double left = grid.FirstColumn, top = grid.FirstRow;
        double right = left + (grid.Columns * grid.PerColumn), bottom = top + (grid.Rows * grid.PerRow);
        map.Extent = new CoordinateRect(left, right, bottom, top);
        plot.Axes.SetLimits(left, right, bottom, top);
        plot.Title(title);
        plot.XLabel(grid.ChannelsAcross ? "channel" : "position p = n S + s (samples side by side)");
        plot.YLabel(!elementwise ? "" : grid.ChannelsAcross ? "p = n S + s" : "channel");
        if (!elementwise)
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
        return plot.GetImageBytes(Width, Math.Clamp(120 + (grid.Rows * 6), 160, 420), ImageFormat.Png);
    }

    /// <summary>Ticks at 1, 10, 100, ... elements on an axis of log10(1 + count).</summary>
    private static void LogCountTicks(IAxis axis, long max)
    {
        int decades = Math.Max(1, (int)Math.Ceiling(Math.Log10(1 + max)));
        double[] positions = [.. Enumerable.Range(0, decades + 1).Select(d => Math.Log10(1 + Math.Pow(10, d)))];
        string[] labels = [.. Enumerable.Range(0, decades + 1).Select(d => d == 0 ? "1" : d < 4 ? Math.Pow(10, d).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"1e{d}")];
        axis.SetTicks(positions, labels);
    }
}
