using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchNorm.Harness;
using BatchNorm.Harness.Adapters;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// One call of a kernel under the run's guards (<see cref="KernelRun"/>): what a kernel throws is its violation, named
/// with the exception, except the failures that are bnverify's own (out of memory, a broken adapter); a write just
/// outside an input is named like one outside an output; the forward y reaches a backward pass only when a ReLU is fused.
/// </summary>
public class KernelRunTests
{
    private static readonly IBatchNormKernel Correct = KernelCatalog.Create("optimized");

    private static VerificationCase Case(string name) => Battery.For(Suite.Quick, Activation.Relu).Concat(Battery.For(Suite.Quick)).First(c => c.Name == name);

    private static KernelRun Execute(IBatchNormKernel kernel, VerificationCase @case) =>
        KernelRun.Execute(kernel, @case, CaseInputs.Draw(@case, Battery.DefaultSeed));

    [Fact]
    public void WhatAKernelThrowsIsItsViolationNamedWithTheException()
    {
        var run = Execute(new Spy(Correct) { OnBackward = _ => throw new InvalidOperationException("planted") }, Case("normal/nchw/backward-train"));
        Assert.Equal(["the kernel threw InvalidOperationException: planted"], run.Violations);
        Assert.Equal(Case("normal/nchw/backward-train").Shape.ElementCount, run.Outputs[BatchNormOutput.Dx].Length);
    }

    [Fact]
    public void OutOfMemoryAndABrokenAdapterAreBnverifysFailuresNotTheKernels()
    {
        var @case = Case("normal/nchw/backward-train");
        Assert.Throws<OutOfMemoryException>(() => Execute(new Spy(Correct) { OnBackward = _ => throw new OutOfMemoryException() }, @case));
        var adapter = Assert.Throws<AdapterException>(() => Execute(new Spy(Correct) { OnBackward = _ => throw new AdapterException("adapter died") }, @case));
        Assert.Equal("adapter died", adapter.Message);
    }

    [Theory]
    [InlineData("normal/nchw/backward-train")]
    [InlineData("normal/nhwc/backward-infer")]
    public void TheForwardYReachesABackwardPassOnlyWithAReluFused(string plainName)
    {
        var relu = Case("relu/" + plainName);
        var plain = Case(plainName);
        // The plain case run on the ReLU case's inputs, forward y included: the kernel must still see none.
        var inputs = CaseInputs.Draw(relu, Battery.DefaultSeed);
        Assert.NotEmpty(inputs.ForwardY);
        var spy = new Spy(Correct);
        Assert.Empty(KernelRun.Execute(spy, plain, inputs).Violations);
        Assert.Equal(0, spy.ForwardYLength);
        Assert.Empty(KernelRun.Execute(spy, relu, inputs).Violations);
        Assert.Equal(plain.Shape.ElementCount, spy.ForwardYLength);
    }

    [Fact]
    public void AWriteJustOutsideAnInputIsNamedLikeOneOutsideAnOutput()
    {
        var @case = Case("normal/nchw/backward-train");
        int n = @case.Shape.ElementCount;
        var past = Execute(new Spy(Correct) { OnBackward = t => WriteAt(t.X, t.X.Length) }, @case);
        Assert.Equal([$"x: wrote at element {n} past the end (length {n})"], past.Violations);
        var before = Execute(new Spy(Correct) { OnBackward = t => WriteAt(t.Gamma, -1) }, @case);
        Assert.Equal(["gamma: wrote 1 element(s) before the start of the span"], before.Violations);
        var inside = Execute(new Spy(Correct) { OnBackward = t => WriteAt(t.Dy, 0) }, @case);
        Assert.Equal(["dy: the kernel changed an input"], inside.Violations);
    }

    /// <summary>Writes through a read-only input's span, as a kernel with a pointer can.</summary>
    private static void WriteAt(ReadOnlySpan<float> span, int offset) =>
        Unsafe.Add(ref MemoryMarshal.GetReference(span), offset) = 12345f;

    /// <summary>A correct kernel that records the forward y its backward passes get and runs a planted action after them.</summary>
    private sealed class Spy(IBatchNormKernel correct) : IBatchNormKernel
    {
        public Action<BackwardTrainingTensors<float>> OnBackward { get; init; } = _ => { };

        public int ForwardYLength { get; private set; } = -1;

        public string Name => "spy";

        public NumericalContract? Contract => correct.Contract;

        public bool Supports(Activation activation) => correct.Supports(activation);

        public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) => correct.ForwardTraining(shape, options, t);

        public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => correct.ForwardInference(shape, options, t);

        public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            ForwardYLength = t.ForwardY.Length;
            correct.BackwardTraining(shape, t);
            OnBackward(t);
        }

        public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
        {
            ForwardYLength = t.ForwardY.Length;
            correct.BackwardInference(shape, options, t);
        }
    }
}
