namespace BatchNorm.Harness.Reports;

/// <summary>
/// A failing output's damaged elements laid out for the eye: one row per channel and one column per position along
/// the batch (p = n S + s, samples side by side), each cell the share of its elements that are damaged (0 to 1); the
/// axes swap where a tensor has fewer positions than channels (the longer extent runs across the page), and a
/// per-channel output is one row of C cells. The overview covers the whole tensor, several channels or positions to a
/// cell where it is large; the zoom is one element a cell around the first damaged element, where a tail, a lane, a
/// stride or a shift shows as the pattern it is.
/// </summary>
/// <param name="Cells">Damaged share by [row, column].</param>
/// <param name="ChannelsAcross">True when columns are channels (and rows positions, or one row for a per-channel output).</param>
/// <param name="FirstRow">The channel or position of row 0.</param>
/// <param name="PerRow">Channels or positions each row covers.</param>
/// <param name="FirstColumn">The position or channel of column 0.</param>
/// <param name="PerColumn">Positions or channels each column covers.</param>
internal sealed record DamageGrid(double[,] Cells, bool ChannelsAcross, int FirstRow, int PerRow, int FirstColumn, int PerColumn)
{
    public int Rows => Cells.GetLength(0);

    public int Columns => Cells.GetLength(1);

    /// <summary>True when every cell is one element: the zoom, or an overview of a small tensor.</summary>
    public bool OneElementPerCell => PerRow == 1 && PerColumn == 1;

    /// <summary>The whole output in at most <paramref name="maxRows"/> by <paramref name="maxColumns"/> cells.</summary>
    public static DamageGrid Overview(TensorShape shape, bool elementwise, IReadOnlyList<int> damaged, int maxRows = 64, int maxColumns = 512)
    {
        var (rows, columns) = Extent(shape, elementwise);
        int perRow = CeilDiv(rows, maxRows), perColumn = CeilDiv(columns, maxColumns);
        return Fill(shape, elementwise, damaged, 0, CeilDiv(rows, perRow), perRow, 0, CeilDiv(columns, perColumn), perColumn);
    }

    /// <summary>
    /// One element a cell: up to <paramref name="rows"/> rows from a few before the first damaged element's row, and up to
    /// <paramref name="columns"/> columns from a few before its column (the whole extent where it is smaller).
    /// </summary>
    public static DamageGrid Zoom(TensorShape shape, bool elementwise, IReadOnlyList<int> damaged, int rows = 32, int columns = 128)
    {
        var (allRows, allColumns) = Extent(shape, elementwise);
        var (r0, c0) = damaged.Count == 0 ? (0, 0) : Place(shape, elementwise, damaged[0]);
        int height = Math.Min(rows, allRows), width = Math.Min(columns, allColumns);
        int firstRow = Math.Clamp(r0 - (height / 8), 0, allRows - height);
        int firstColumn = Math.Clamp(c0 - (width / 8), 0, allColumns - width);
        return Fill(shape, elementwise, damaged, firstRow, height, 1, firstColumn, width, 1);
    }

    /// <summary>Columns are channels for a per-channel output and for a tensor with fewer positions than channels.</summary>
    private static bool Across(TensorShape shape, bool elementwise) => !elementwise || shape.M < shape.C;

    /// <summary>Rows and columns of the whole output: C by M, M by C (channels across), or 1 by C for a per-channel output.</summary>
    private static (int Rows, int Columns) Extent(TensorShape shape, bool elementwise) =>
        !elementwise ? (1, shape.C) : Across(shape, elementwise) ? (shape.M, shape.C) : (shape.C, shape.M);

    /// <summary>The (row, column) of a flat index.</summary>
    private static (int Row, int Column) Place(TensorShape shape, bool elementwise, int index)
    {
        if (!elementwise)
            return (0, index);
        var (n, c, s) = shape.CoordinatesOf(index);
        int p = (n * shape.S) + s;
        return Across(shape, elementwise) ? (p, c) : (c, p);
    }

    private static DamageGrid Fill(TensorShape shape, bool elementwise, IReadOnlyList<int> damaged, int firstRow, int rows, int perRow, int firstColumn, int columns, int perColumn)
    {
        var (allRows, allColumns) = Extent(shape, elementwise);
        double[,] cells = new double[rows, columns];
        foreach (int index in damaged)
        {
            var (r, c) = Place(shape, elementwise, index);
            int row = (r - firstRow) / perRow, column = (c - firstColumn) / perColumn;
            if (r >= firstRow && c >= firstColumn && row < rows && column < columns)
                cells[row, column]++;
        }

        // Divide by each cell's element count (the last row and column may be short).
        for (int row = 0; row < rows; row++)
        {
            int height = Math.Min(perRow, allRows - firstRow - (row * perRow));
            for (int column = 0; column < columns; column++)
            {
                int width = Math.Min(perColumn, allColumns - firstColumn - (column * perColumn));
                cells[row, column] /= (double)height * width;
            }
        }

        return new DamageGrid(cells, Across(shape, elementwise), firstRow, perRow, firstColumn, perColumn);
    }

    private static int CeilDiv(int a, int b) => Math.Max(1, (a + b - 1) / b);
}
