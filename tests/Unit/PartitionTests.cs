using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The partition's contract over a grid of shapes: every unit in exactly one non-empty chunk, the
/// traversal its documentation names, and chunk sizes that keep cores busy without making tasks
/// too small to be worth one. The kernel tests cannot see the partition (any partition gives
/// correct, deterministic values), so a partition that serializes a large tensor or splits it into
/// thousands of tiny tasks would pass them; these bounds catch it.
/// </summary>
public class PartitionTests
{
    private static readonly int[] Ns = [1, 2, 3, 64, 256];
    private static readonly int[] Cs = [1, 2, 3, 7, 64, 1024];

    /// <summary>Both sides of the 1024 channel-run threshold, the 2^17 channel-chunk size, and the short runs.</summary>
    private static readonly int[] Ss = [1, 2, 37, 1023, 1024, 3136, 65536, 70000];

    public static IEnumerable<TensorShape> Grid()
    {
        foreach (var layout in new[] { Layout.ChannelsFirst, Layout.ChannelsLast })
        {
            foreach (int n in Ns)
            {
                foreach (int c in Cs)
                {
                    foreach (int s in Ss)
                    {
                        if ((long)n * c * s <= Array.MaxLength)
                            yield return new TensorShape(n, c, s, layout);
                    }
                }
            }
        }
    }

    [Fact]
    public void EveryUnitIsInExactlyOneNonEmptyChunk()
    {
        foreach (var shape in Grid())
        {
            var plan = Partition.For(shape);
            Assert.True(plan.Chunks >= 1, $"{shape}: {plan}");
            Assert.Equal(0, plan.ChunkRange(0).Start);
            Assert.Equal(plan.Units, plan.ChunkRange(plan.Chunks - 1).End);
            for (int k = 0; k < plan.Chunks; k++)
            {
                var (start, end) = plan.ChunkRange(k);
                Assert.True(start < end, $"{shape}: chunk {k} of {plan} is empty");
                if (k > 0)
                    Assert.Equal(plan.ChunkRange(k - 1).End, start);
            }
        }
    }

    [Fact]
    public void TheTraversalIsTheDocumentedOne()
    {
        foreach (var shape in Grid())
        {
            var expected = shape.Layout == Layout.ChannelsFirst && shape.S >= Partition.MinChannelRun ? Traversal.ChannelRuns
                : shape.Layout == Layout.ChannelsFirst && shape.S > 1 ? Traversal.SampleRuns
                : Traversal.Rows;
            var plan = Partition.For(shape);
            Assert.True(expected == plan.Traversal, $"{shape}: {plan.Traversal}, expected {expected}");
            Assert.Equal((long)(expected == Traversal.SampleRuns ? shape.N : shape.M), plan.Units);
            Assert.Equal(expected == Traversal.ChannelRuns ? shape.C * plan.Chunks : plan.Chunks, plan.Tasks);
        }
    }

    [Fact]
    public void ChannelRunChunksFitInL2AndAreNeitherTooFewNorTooSmall()
    {
        foreach (var shape in Grid().Where(s => Partition.For(s).Traversal == Traversal.ChannelRuns))
        {
            var plan = Partition.For(shape);
            long m = shape.M;
            string where = $"{shape}: {plan.Chunks} chunks per channel";
            Assert.True(CeilDiv(m, plan.Chunks) <= Partition.MaxChannelChunk, $"{where} exceed {Partition.MaxChannelChunk} values");
            Assert.True(plan.Tasks >= Math.Min(Partition.MinTasks, shape.C * (m / Partition.MinChunk)), $"{where} leave cores idle");
            Assert.True(plan.Chunks == 1 || m / plan.Chunks >= Partition.MinChunk, $"{where} are below {Partition.MinChunk} values");
            Assert.True(plan.Chunks <= Math.Max(CeilDiv(m, Partition.MaxChannelChunk), CeilDiv(Partition.MinTasks, shape.C)), $"{where} are more than needed");
        }
    }

    [Fact]
    public void RowAndSampleChunksAreAboutTheTargetSizeAndNeitherTooFewNorTooSmall()
    {
        foreach (var shape in Grid().Where(s => Partition.For(s).Traversal != Traversal.ChannelRuns))
        {
            var plan = Partition.For(shape);
            long total = shape.ElementCount;
            long unitElements = total / plan.Units;
            long largest = CeilDiv(plan.Units, plan.Chunks) * unitElements;
            long smallest = plan.Units / plan.Chunks * unitElements;
            string where = $"{shape}: {plan.Traversal} in {plan.Chunks} chunks of {smallest} to {largest} elements";
            Assert.True(plan.Chunks == plan.Units || largest <= Partition.RowChunkElements + unitElements, $"{where}: too large");
            long worthTasks = Math.Min(Partition.MinTasks, Math.Min(total / Partition.MinChunk, (long)shape.M / Partition.MinValuesPerPartial));
            Assert.True(plan.Tasks >= Math.Min(worthTasks, plan.Units), $"{where}: cores left idle");
            Assert.True(plan.Chunks <= Math.Max(CeilDiv(total, Partition.RowChunkElements), Math.Max(1, (long)shape.M / Partition.MinValuesPerPartial)), $"{where}: partial sums cost more than a sixteenth of the data");
            Assert.True(plan.Chunks == 1 || smallest >= Partition.MinChunk - unitElements, $"{where}: too small");
            Assert.True(plan.Chunks <= Math.Max(CeilDiv(total, Partition.RowChunkElements), Partition.MinTasks), $"{where}: more than needed");
        }
    }

    [Fact]
    public void WithoutAReductionChannelRunsBecomeMemoryOrderChunksAndTheRestIsUnchanged()
    {
        foreach (var shape in Grid())
        {
            var reducing = Partition.For(shape);
            var plan = Partition.ForApply(shape);
            if (reducing.Traversal != Traversal.ChannelRuns)
            {
                Assert.Equal(reducing, plan);
                continue;
            }

            long total = shape.ElementCount;
            string where = $"{shape}: {plan.Traversal} in {plan.Chunks} chunks";
            Assert.Equal(Traversal.Elements, plan.Traversal);
            Assert.Equal(total, plan.Units);
            Assert.Equal(plan.Chunks, plan.Tasks);
            Assert.Equal(0, plan.ChunkRange(0).Start);
            Assert.Equal(total, plan.ChunkRange(plan.Chunks - 1).End);
            for (int k = 1; k < plan.Chunks; k++)
                Assert.Equal(plan.ChunkRange(k - 1).End, plan.ChunkRange(k).Start);
            Assert.True(CeilDiv(total, plan.Chunks) <= Partition.RowChunkElements, $"{where}: too large");
            Assert.True(plan.Chunks == 1 || total / plan.Chunks >= Partition.MinChunk, $"{where}: too small");
            Assert.True(plan.Tasks >= Math.Min(Partition.MinTasks, total / Partition.MinChunk), $"{where}: cores left idle");
        }
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
