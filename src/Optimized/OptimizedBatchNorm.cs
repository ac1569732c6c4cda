using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Passes;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized;

/// <summary>
/// Batch normalization in float32 with SIMD (512, 256, 128 bits or scalar), multithreaded and
/// deterministic: for a given width the outputs are bitwise the same for any degree of
/// parallelism and from run to run. Same semantics, argument rules and edge-case results as the
/// reference (docs/semantics.md). Sums run in double; the mean is kept as a float pair where
/// x - mean is formed. Allocates nothing per call beyond pooled O(C) scratch and the thread pool's
/// own bookkeeping. <typeparamref name="TTail"/> is how its element-wise loops finish a run:
/// <see cref="OptimizedBatchNorm"/> is this kernel with the correct tail; the verifier's zoo plants
/// loop bugs through the others.
/// </summary>
internal class OptimizedBatchNorm<TTail> where TTail : struct, IElementwiseTail
{
    /// <summary>Creates a kernel at a width (Auto: the widest accelerated) and a thread budget (0 or less: all cores).</summary>
    /// <exception cref="NotSupportedException">The width is not accelerated on this machine.</exception>
    public OptimizedBatchNorm(VectorWidth width = VectorWidth.Auto, int maxDegreeOfParallelism = 0)
    {
        if (!Enum.IsDefined(width))
            throw new ArgumentOutOfRangeException(nameof(width), width, "width must be Auto, Scalar, Bits128, Bits256 or Bits512.");
        // Stryker disable once all : reachable only on a machine without some width; ForcingAWidthTheMachineLacksIsRefused covers it there.
        if (!VectorWidths.IsSupported(width))
            throw new NotSupportedException($"{nameof(width)} = {width} is not hardware-accelerated in this process; supported: {string.Join(", ", VectorWidths.Supported)}.");
        Width = width == VectorWidth.Auto ? VectorWidths.Widest : width;
        MaxDegreeOfParallelism = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
    }

    /// <summary>The width this kernel runs at (never Auto).</summary>
    public VectorWidth Width { get; }

    /// <summary>At most this many threads work on one call.</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>Training forward: y, batch mean, biased variance, istd, and the running update when given.</summary>
    public unsafe void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        fixed (float* x = t.X, y = t.Y, g = t.Gamma, b = t.Beta, mean = t.BatchMean, variance = t.BatchVariance, invStd = t.BatchInvStd,
               runMean = t.RunningMean, runVar = t.RunningVariance)
        {
            Run(new ForwardTrainingPass(x, y, g, b, mean, variance, invStd, runMean, runVar, shape, options), shape);
        }
    }

    /// <summary>Inference forward from the running statistics.</summary>
    public unsafe void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        fixed (float* x = t.X, y = t.Y, g = t.Gamma, b = t.Beta, runMean = t.RunningMean, runVar = t.RunningVariance)
        {
            Apply(new ForwardInferencePass(x, y, g, b, runMean, runVar, options), shape);
        }
    }

    /// <summary>Training backward from the saved batch mean and istd; with forwardY, dy gated by a fused ReLU as it is read (<see cref="ReluGated"/>).</summary>
    public unsafe void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, t);
        fixed (float* x = t.X, dy = t.Dy, fy = t.ForwardY, g = t.Gamma, mean = t.SavedMean, invStd = t.SavedInvStd, dx = t.Dx, dg = t.DGamma, db = t.DBeta)
        {
            if (fy == null)
                Run(new BackwardTrainingPass<Ungated>(x, new Ungated(dy), g, mean, invStd, dx, dg, db, shape), shape);
            else
                Run(new BackwardTrainingPass<ReluGated>(x, new ReluGated(dy, fy), g, mean, invStd, dx, dg, db, shape), shape);
        }
    }

    /// <summary>Inference backward with the running statistics as constants; with forwardY, dy gated by a fused ReLU as it is read (<see cref="ReluGated"/>).</summary>
    public unsafe void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        fixed (float* x = t.X, dy = t.Dy, fy = t.ForwardY, g = t.Gamma, runMean = t.RunningMean, runVar = t.RunningVariance, dx = t.Dx, dg = t.DGamma, db = t.DBeta)
        {
            if (fy == null)
                Run(new BackwardInferencePass<Ungated>(x, new Ungated(dy), g, runMean, runVar, dx, dg, db, shape, options), shape);
            else
                Run(new BackwardInferencePass<ReluGated>(x, new ReluGated(dy, fy), g, runMean, runVar, dx, dg, db, shape, options), shape);
        }
    }

    private void Run<TP>(TP pass, in TensorShape shape) where TP : struct, IReducingPass =>
        AtWidth(new ReducingRun<TP>(pass, shape, MaxDegreeOfParallelism));

    private void Apply<TP>(TP pass, in TensorShape shape) where TP : struct, IBatchNormPass =>
        AtWidth(new ApplyRun<TP>(pass, shape, MaxDegreeOfParallelism));

    /// <summary>Something to run at one vector width and its double accumulator.</summary>
    private interface IAtWidth
    {
        void Run<TV, TW>()
            where TV : struct, IFloatVector<TV>
            where TW : struct, IDoubleAccumulator<TW, TV>;
    }

    /// <summary>The one dispatch from <see cref="Width"/> to the vector types every loop is generic over.</summary>
    private void AtWidth<TA>(TA action) where TA : struct, IAtWidth
    {
        switch (Width)
        {
            case VectorWidth.Bits512:
                action.Run<V512, V512.Wide>();
                break;
            case VectorWidth.Bits256:
                action.Run<V256, V256.Wide>();
                break;
            case VectorWidth.Bits128:
                action.Run<V128, V128.Wide>();
                break;
            case VectorWidth.Scalar:
                action.Run<Scalar, Scalar.Wide>();
                break;
            case VectorWidth.Auto:
            default:
                // The constructor resolves Auto to a width; nothing else reaches here.
                throw new InvalidOperationException($"no pass driver for width {Width}");
        }
    }

    private readonly struct ReducingRun<TP>(TP pass, TensorShape shape, int threads) : IAtWidth where TP : struct, IReducingPass
    {
        public void Run<TV, TW>()
            where TV : struct, IFloatVector<TV>
            where TW : struct, IDoubleAccumulator<TW, TV> => PassDriver.Run<TP, TV, TW, TTail>(pass, shape, threads);
    }

    private readonly struct ApplyRun<TP>(TP pass, TensorShape shape, int threads) : IAtWidth where TP : struct, IBatchNormPass
    {
        public void Run<TV, TW>()
            where TV : struct, IFloatVector<TV>
            where TW : struct, IDoubleAccumulator<TW, TV> => PassDriver.Apply<TP, TV, TTail>(pass, shape, threads);
    }
}

/// <summary>The optimized kernel: <see cref="OptimizedBatchNorm{TTail}"/> with the correct loops.</summary>
internal sealed class OptimizedBatchNorm(VectorWidth width = VectorWidth.Auto, int maxDegreeOfParallelism = 0)
    : OptimizedBatchNorm<CorrectTail>(width, maxDegreeOfParallelism);
