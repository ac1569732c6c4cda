using BatchNorm.Harness.Benchmarks;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>The workload bench times: under a fused ReLU its forward passes apply it and its backward passes get the forward's y.</summary>
public class PassWorkloadTests
{
    private static readonly TensorShape Shape = new(4, 3, 50, Layout.ChannelsFirst);

    [Fact]
    public void WithoutAnActivationYHasNegativesAndThereIsNoForwardY()
    {
        var workload = new PassWorkload(new OptimizedKernel("optimized", VectorWidth.Auto), Shape);
        Assert.Contains(workload.Y, v => v < 0);
        Assert.Empty(workload.ForwardY);
    }

    [Fact]
    public void UnderAFusedReluEveryForwardClampsAndTheBackwardGetsTheForwardsY()
    {
        var workload = new PassWorkload(new OptimizedKernel("optimized", VectorWidth.Auto), Shape, activation: Activation.Relu);
        Assert.All(workload.Y, v => Assert.True(v >= 0));
        Assert.Equal(workload.Y, workload.ForwardY);
        Assert.Contains(workload.ForwardY, v => v == 0);

        workload.Run(BatchNormPass.ForwardInference);
        Assert.All(workload.Y, v => Assert.True(v >= 0));

        // Inference backward is dx = g * gamma * istd: where the forward's y is at most 0 the gate
        // passes no gradient and dx is 0; elsewhere it is the plain backward's dx.
        var plain = new PassWorkload(new OptimizedKernel("optimized", VectorWidth.Auto), Shape);
        workload.Run(BatchNormPass.BackwardInference);
        plain.Run(BatchNormPass.BackwardInference);
        for (int i = 0; i < workload.Dx.Length; i++)
            Assert.Equal(workload.ForwardY[i] <= 0 ? 0f : plain.Dx[i], workload.Dx[i]);
    }
}
