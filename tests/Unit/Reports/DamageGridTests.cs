using BatchNorm.Harness.Reports;
using Xunit;

namespace BatchNorm.Tests.Unit.Reports;

/// <summary>The damage map's layout: each damaged element lands in the cell of its channel and position p = n S + s, in either memory layout.</summary>
public class DamageGridTests
{
    private static int[] Indices(TensorShape shape, IEnumerable<(int N, int C, int S)> elements) =>
        [.. elements.Select(e => (int)shape.IndexOf(e.N, e.C, e.S)).Order()];

    [Theory]
    [InlineData(Layout.ChannelsFirst)]
    [InlineData(Layout.ChannelsLast)]
    public void EachDamagedElementIsTheCellOfItsChannelAndPosition(Layout layout)
    {
        var shape = new TensorShape(3, 4, 7, layout);
        // Every 2nd element of the last 3 positions of each sample in channels 1 and 3: a stride-2 tail.
        var damaged = (from n in Enumerable.Range(0, 3) from c in new[] { 1, 3 } from s in new[] { 4, 6 } select (n, c, s)).ToList();
        var grid = DamageGrid.Overview(shape, elementwise: true, Indices(shape, damaged));
        Assert.True(grid.OneElementPerCell);
        Assert.False(grid.ChannelsAcross);
        Assert.Equal((4, 21), (grid.Rows, grid.Columns));
        for (int c = 0; c < 4; c++)
        {
            for (int p = 0; p < 21; p++)
                Assert.Equal(damaged.Contains((p / 7, c, p % 7)) ? 1.0 : 0.0, grid.Cells[c, p]);
        }
    }

    [Fact]
    public void ALargeTensorsOverviewGivesEachCellTheShareOfItsElementsDamaged()
    {
        var shape = new TensorShape(2, 128, 1024, Layout.ChannelsLast);
        var damaged = Indices(shape, from n in Enumerable.Range(0, 2) from s in Enumerable.Range(0, 1024) select (n, 5, s));
        var grid = DamageGrid.Overview(shape, elementwise: true, damaged);
        // 128 channels in 64 rows of 2, 2048 positions in 512 columns of 4: channel 5 is half of row 2.
        Assert.Equal((64, 2, 512, 4), (grid.Rows, grid.PerRow, grid.Columns, grid.PerColumn));
        for (int row = 0; row < grid.Rows; row++)
            Assert.All(Enumerable.Range(0, grid.Columns), column => Assert.Equal(row == 2 ? 0.5 : 0.0, grid.Cells[row, column]));

        var zoom = DamageGrid.Zoom(shape, elementwise: true, damaged);
        Assert.True(zoom.OneElementPerCell);
        Assert.Equal(1.0, zoom.Cells[5 - zoom.FirstRow, 0 - zoom.FirstColumn]);
        Assert.Equal(zoom.Columns, Enumerable.Range(0, zoom.Columns).Sum(column => zoom.Cells[5 - zoom.FirstRow, column]));
        Assert.Equal(zoom.Columns, Enumerable.Range(0, zoom.Rows).Sum(row => Enumerable.Range(0, zoom.Columns).Sum(column => zoom.Cells[row, column])));
    }

    [Fact]
    public void ShortLastCellsAreDividedByTheElementsTheyHold()
    {
        var shape = new TensorShape(1, 5, 7, Layout.ChannelsFirst);
        int[] all = [.. Enumerable.Range(0, 35)];
        var grid = DamageGrid.Overview(shape, elementwise: true, all, maxRows: 2, maxColumns: 2);
        Assert.Equal((2, 3, 2, 4), (grid.Rows, grid.PerRow, grid.Columns, grid.PerColumn));
        Assert.All(grid.Cells.Cast<double>(), share => Assert.Equal(1.0, share));
    }

    [Fact]
    public void AThinTensorRunsItsChannelsAcrossAndAPerChannelOutputIsOneRow()
    {
        var thin = new TensorShape(1, 300, 1, Layout.ChannelsLast);
        var grid = DamageGrid.Overview(thin, elementwise: true, [297, 299]);
        Assert.True(grid.ChannelsAcross);
        Assert.Equal((1, 300), (grid.Rows, grid.Columns));
        Assert.Equal([297, 299], Enumerable.Range(0, 300).Where(c => grid.Cells[0, c] == 1));

        var perChannel = DamageGrid.Overview(new TensorShape(8, 600, 49, Layout.ChannelsFirst), elementwise: false, [0, 599]);
        Assert.True(perChannel.ChannelsAcross);
        Assert.Equal((1, 2), (perChannel.Rows, perChannel.PerColumn));
        Assert.Equal((0.5, 0.5), (perChannel.Cells[0, 0], perChannel.Cells[0, 299]));
    }
}
