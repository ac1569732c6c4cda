using BatchNorm.Optimized;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The channels-last reduction walks, each against the definition its documentation gives: every
/// channel's sums run row after row in double, starting from what the accumulators held, bit for
/// bit the same in every walk and at every width. The kernel tests reach a walk only through the
/// policy's choice for their shape; these reach every walk with channel counts that leave every
/// kind of tail (no full vector, a single vector, an odd vector, lanes over) and row counts that
/// leave panels over.
/// </summary>
public unsafe class RowsWalkTests
{
    private static readonly int[] Channels = [1, 3, 16, 17, 40, 130];
    private static readonly int[] RowCounts = [1, 3, 4, 5, 9];

    /// <summary>Every supported width with every walk, by name (the types are internal).</summary>
    public static TheoryData<string, string> WidthsAndWalks()
    {
        var data = new TheoryData<string, string>();
        foreach (var width in VectorWidths.Supported)
        {
            foreach (var walk in Enum.GetValues<RowsWalk>())
                data.Add(width.ToString(), walk.ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndWalks))]
    public void DeviationSumsAreEachChannelsRowsAddedInOrder(string widthName, string walkName) =>
        AssertEveryBlockMatches(
            widthName,
            walkName,
            seedBase: 31,
            ("sum", "squares"),
            (x, _, center, sum, squares) =>
            {
                double d = x - center;
                return (sum + d, Math.FusedMultiplyAdd(d, d, squares));
            },
            Deviations);

    [Theory]
    [MemberData(nameof(WidthsAndWalks))]
    public void GradientSumsAreEachChannelsRowsAddedInOrder(string widthName, string walkName) =>
        AssertEveryBlockMatches(
            widthName,
            walkName,
            seedBase: 37,
            ("sumDy", "sumDyDeviation"),
            (x, dy, mean, sumDy, sumDyDeviation) => (sumDy + dy, Math.FusedMultiplyAdd(dy, x - mean, sumDyDeviation)),
            Gradients);

    [Fact]
    public void NarrowRowsWalkTheColumnsAndWideRowsTheWalkTheirInputsAndSizeCallFor()
    {
        long cached = StreamingPolicy.MinDataBytes / 2 / sizeof(float) / 4;
        long uncached = StreamingPolicy.MinDataBytes / sizeof(float);
        int wide = RowsWalkPolicy.MinWideRow;
        Assert.Equal(RowsWalk.Columns, RowsWalkPolicy.For(Rows(wide - 1, uncached), 1));
        Assert.Equal(RowsWalk.Columns, RowsWalkPolicy.For(Rows(wide - 1, uncached), 2));
        Assert.Equal(RowsWalk.Columns, RowsWalkPolicy.For(Rows(wide, cached), 1));
        Assert.Equal(RowsWalk.PrefetchedColumns, RowsWalkPolicy.For(Rows(wide, uncached), 1));
        Assert.Equal(RowsWalk.Panels, RowsWalkPolicy.For(Rows(wide, cached), 2));
        Assert.Equal(RowsWalk.Panels, RowsWalkPolicy.For(Rows(wide, cached / 2), 3));
        Assert.Equal(RowsWalk.Rows, RowsWalkPolicy.For(Rows(wide, uncached), 2));
        Assert.Equal(RowsWalk.Rows, RowsWalkPolicy.For(Rows(wide, uncached), 3));

        // Channels-first rows of one channel's values are not channels-last rows, however many channels.
        Assert.Equal(RowsWalk.Columns, RowsWalkPolicy.For(Partition.For(new TensorShape(64, wide, 4096, Layout.ChannelsFirst)), 2));

        // The rows partition of about this many elements in rows of c channels.
        static Partition Rows(int c, long elements) => Partition.For(new TensorShape((int)(elements / c), c, 1, Layout.ChannelsLast));
    }

    [Fact]
    public void WideChannelsLastRowsStreamFromHalfTheDataOtherTensorsDo()
    {
        // Elements of one tensor for a forward call (two tensors) of exactly half, and of all, the bound.
        long half = StreamingPolicy.MinDataBytes / 2 / 2 / sizeof(float), full = 2 * half;
        Assert.False(StreamingPolicy.Streams(half - 16, inputTensors: 1, wideRows: true));
        Assert.True(StreamingPolicy.Streams(half, inputTensors: 1, wideRows: true));
        Assert.False(StreamingPolicy.Streams(half, inputTensors: 1, wideRows: false));
        Assert.False(StreamingPolicy.Streams(full - 16, inputTensors: 1, wideRows: false));
        Assert.True(StreamingPolicy.Streams(full, inputTensors: 1, wideRows: false));
        Assert.True(RowsWalkPolicy.IsWide(Partition.For(new TensorShape(4, RowsWalkPolicy.MinWideRow, 3, Layout.ChannelsLast))));
        Assert.True(RowsWalkPolicy.IsWide(Partition.For(new TensorShape(4, RowsWalkPolicy.MinWideRow, 1, Layout.ChannelsFirst))));
        Assert.False(RowsWalkPolicy.IsWide(Partition.For(new TensorShape(4, RowsWalkPolicy.MinWideRow - 1, 3, Layout.ChannelsLast))));
        Assert.False(RowsWalkPolicy.IsWide(Partition.For(new TensorShape(4, RowsWalkPolicy.MinWideRow, 3, Layout.ChannelsFirst))));
    }

    /// <summary>One row's step of a channel's two sums, from x, dy (both widened) and the channel's center.</summary>
    private delegate (double First, double Second) RowStep(double x, double dy, double center, double first, double second);

    /// <summary>A walk's reduction of one block at one width.</summary>
    private delegate void BlockReduction(VectorWidth width, float* x, float* dy, int c, int rows, double* centers, double* first, double* second, RowsWalk walk);

    /// <summary>
    /// For every channel count and row count: draws a block, runs the reduction in the walk, and
    /// checks each channel's two sums bit for bit against the step applied row after row from the
    /// accumulators' starting values.
    /// </summary>
    private static void AssertEveryBlockMatches(string widthName, string walkName, int seedBase, (string First, string Second) names, RowStep step, BlockReduction reduce)
    {
        var (width, walk) = (Enum.Parse<VectorWidth>(widthName), Enum.Parse<RowsWalk>(walkName));
        foreach (int c in Channels)
        {
            foreach (int rows in RowCounts)
            {
                var (x, dy, centers, first, second) = Draw(c, rows, seed: (c * seedBase) + rows);
                var (expectedFirst, expectedSecond) = ((double[])first.Clone(), (double[])second.Clone());
                for (int r = 0; r < rows; r++)
                {
                    for (int j = 0; j < c; j++)
                        (expectedFirst[j], expectedSecond[j]) = step(x[(r * c) + j], dy[(r * c) + j], centers[j], expectedFirst[j], expectedSecond[j]);
                }

                fixed (float* px = x, pdy = dy)
                fixed (double* pc = centers, pf = first, ps = second)
                {
                    reduce(width, px, pdy, c, rows, pc, pf, ps, walk);
                }

                AssertSameBits(expectedFirst, first, $"{width} {walk} C={c} rows={rows} {names.First}");
                AssertSameBits(expectedSecond, second, $"{width} {walk} C={c} rows={rows} {names.Second}");
            }
        }
    }

    private static (float[] X, float[] Dy, double[] Centers, double[] First, double[] Second) Draw(int c, int rows, int seed)
    {
        var random = new Random(seed);
        float[] Floats(int n) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 8) - 3)).ToArray();
        double[] Doubles(int n) => Enumerable.Range(0, n).Select(_ => (random.NextDouble() * 4) - 2).ToArray();

        // Tensors longer than the block, so a walk that reads a row too many reads values that change its sums.
        return (Floats((rows + 2) * c), Floats((rows + 2) * c), Doubles(c), Doubles(c), Doubles(c));
    }

    private static void AssertSameBits(double[] expected, double[] actual, string what)
    {
        for (int j = 0; j < expected.Length; j++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[j]) == BitConverter.DoubleToInt64Bits(actual[j]), $"{what}, channel {j}: expected {expected[j]:R}, got {actual[j]:R}");
    }

    /// <summary>The deviation sums read x alone; the gradient tensor is there to match <see cref="BlockReduction"/>.</summary>
    private static void Deviations(VectorWidth width, float* x, float* unusedDy, int c, int rows, double* centers, double* first, double* second, RowsWalk walk)
    {
        switch (width)
        {
            case VectorWidth.Scalar:
                Reductions.ColumnDeviations<Scalar, Scalar.Wide>(x, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Bits128:
                Reductions.ColumnDeviations<V128, V128.Wide>(x, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Bits256:
                Reductions.ColumnDeviations<V256, V256.Wide>(x, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Bits512:
                Reductions.ColumnDeviations<V512, V512.Wide>(x, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Auto:
            default:
                throw new ArgumentOutOfRangeException(nameof(width), width, "a concrete width");
        }
    }

    private static void Gradients(VectorWidth width, float* x, float* dy, int c, int rows, double* centers, double* first, double* second, RowsWalk walk)
    {
        var source = new Ungated(dy);
        switch (width)
        {
            case VectorWidth.Scalar:
                Reductions.ColumnGradients<Scalar, Scalar.Wide, Ungated>(x, source, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Bits128:
                Reductions.ColumnGradients<V128, V128.Wide, Ungated>(x, source, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Bits256:
                Reductions.ColumnGradients<V256, V256.Wide, Ungated>(x, source, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Bits512:
                Reductions.ColumnGradients<V512, V512.Wide, Ungated>(x, source, c, rows, centers, first, second, walk);
                break;
            case VectorWidth.Auto:
            default:
                throw new ArgumentOutOfRangeException(nameof(width), width, "a concrete width");
        }
    }
}
