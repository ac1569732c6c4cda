using BatchNorm.Optimized;
using BatchNorm.Optimized.Loops;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>The zoo's loop bugs are the optimized kernel's own loops with a faulty tail: the damage follows its vector width.</summary>
public class PlantedLoopBugTests
{
    private readonly struct SkippedTail : IElementwiseTail
    {
        public static bool Runs => false;

        public static int Step => 1;
    }

    private readonly struct StridedTail : IElementwiseTail
    {
        public static bool Runs => true;

        public static int Step => 2;
    }

    /// <summary>Each width this machine runs, by name (VectorWidth is internal to the library, so a test's parameters cannot be of it).</summary>
    public static TheoryData<string> Widths => [.. VectorWidths.Supported.Where(w => w != VectorWidth.Auto).Select(w => w.ToString())];

    [Theory]
    [MemberData(nameof(Widths))]
    public void ASkippedTailLeavesTheLastLengthModLanesElementsOfEachRunUnwritten(string widthName)
    {
        var width = Enum.Parse<VectorWidth>(widthName);
        int lanes = VectorWidths.FloatLanes(width);
        foreach (int s in new[] { 37, 33, 64, 5 })
        {
            float[] y = Run(new OptimizedBatchNorm<SkippedTail>(width, 1), 3, 2, s);
            float[] reference = Run(new OptimizedBatchNorm(width, 1), 3, 2, s);
            int tail = lanes == 1 ? 0 : s % lanes;
            for (int i = 0; i < y.Length; i++)
            {
                bool inTail = i % s >= s - tail;
                Assert.True(inTail ? float.IsNaN(y[i]) : y[i] == reference[i], $"{width}, S = {s}, element {i}: {y[i]} vs {reference[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void AStridedTailWritesEveryOtherTailElement(string widthName)
    {
        var width = Enum.Parse<VectorWidth>(widthName);
        int lanes = VectorWidths.FloatLanes(width), s = 37;
        float[] y = Run(new OptimizedBatchNorm<StridedTail>(width, 1), 2, 2, s);
        float[] reference = Run(new OptimizedBatchNorm(width, 1), 2, 2, s);
        int tailStart = lanes == 1 ? s : s - (s % lanes);   // at one lane the vector loop covers every element
        for (int i = 0; i < y.Length; i++)
        {
            int p = i % s;
            bool skipped = p >= tailStart && (p - tailStart) % 2 == 1;
            Assert.True(skipped ? float.IsNaN(y[i]) : y[i] == reference[i], $"{width}, element {i}");
        }
    }

    /// <summary>Training forward on N x C x S channels-first (S below the streaming and chunking thresholds: one run per (n, c)), y prefilled with NaN.</summary>
    private static float[] Run<TTail>(OptimizedBatchNorm<TTail> kernel, int n, int c, int s) where TTail : struct, IElementwiseTail
    {
        var shape = new TensorShape(n, c, s, Layout.ChannelsFirst);
        var random = new Random(7);
        float[] x = Enumerable.Range(0, shape.ElementCount).Select(_ => (float)random.NextDouble()).ToArray();
        float[] y = Enumerable.Repeat(float.NaN, shape.ElementCount).ToArray();
        kernel.ForwardTraining(shape, BatchNormOptions.PyTorch, new ForwardTrainingTensors<float>
        {
            X = x,
            Y = y,
            BatchMean = new float[c],
            BatchVariance = new float[c],
            BatchInvStd = new float[c],
        });
        return y;
    }
}
