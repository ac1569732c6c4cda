using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchNorm.Optimized;
using BatchNorm.Optimized.Loops;

namespace BatchNorm.Harness.Kernels;

/// <summary>
/// The zoo of planted bugs: one kernel per bug class that shipped in a real library
/// (docs/bug-classes.md maps each to the checks that catch it).
/// </summary>
internal static class FaultyKernels
{
    /// <summary>Names are given to <c>--kernel</c> as <c>faulty:NAME</c>.</summary>
    public const string Prefix = "faulty:";

    private static readonly Func<FaultyKernel>[] Factories =
    [
        () => new OnePassVariance(), () => new VectorTailSkipped(), () => new TailWrongStride(), () => new ChannelTailOffByOne(),
        () => new EpsilonOutsideSqrt(), () => new UnbiasedNormalization(), () => new MomentumReversed(), () => new BackwardWithoutMeanDy(),
        () => new BackwardWithoutXhatTerm(), () => new BackwardInferenceFormula(), () => new ScheduleDependentReduction(),
        () => new ApproximateRsqrt(), () => new NaNLeak(), () => new BesselAtM1(), () => new WritePastEnd(), () => new OneElementOff64Ulp(),
    ];

    /// <summary>Every faulty kernel's short name.</summary>
    public static IReadOnlyList<string> Names { get; } = Factories.Select(f => f().Name[Prefix.Length..]).ToArray();

    /// <summary>Every faulty kernel, freshly made.</summary>
    public static IReadOnlyList<FaultyKernel> All => Factories.Select(f => f()).ToArray();

    /// <summary>Every planted bug's short name: this zoo's, then <see cref="FaultyReluKernels"/>', <see cref="FaultyPrecisionKernels"/>' and <see cref="FaultyGuardKernels"/>'.</summary>
    public static IReadOnlyList<string> EveryName { get; } = [.. Names, .. FaultyReluKernels.Names, .. FaultyPrecisionKernels.Names, .. FaultyGuardKernels.Names];

    /// <summary>The faulty kernel of that short name, of any zoo (<see cref="EveryName"/>).</summary>
    public static FaultyKernel Create(string name) =>
        All.Concat(FaultyReluKernels.All).Concat(FaultyPrecisionKernels.All).Concat(FaultyGuardKernels.All).FirstOrDefault(k => k.Name == Prefix + name)
        ?? throw new ArgumentException($"no faulty kernel is named '{Prefix}{name}'; known: {string.Join(", ", EveryName)}.", nameof(name));

    /// <summary>The float one-pass formula E[x^2] - E[x]^2 with float sums (Caffe, XLA, Flax, tt-metal).</summary>
    private sealed class OnePassVariance() : FaultyKernel("one-pass-variance", "variance as E[x^2] - E[x]^2 in float")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            CorrectWithoutRunningUpdate(shape, options, t);
            for (int c = 0; c < shape.C; c++)
            {
                float sum = 0, squares = 0;
                foreach (float v in Channel(shape, t.X, c))
                {
                    sum += v;
                    squares += v * v;
                }

                float mean = sum / shape.M, variance = squares / shape.M - mean * mean;
                RewriteChannel(shape, options, t, c, mean, variance, 1f / MathF.Sqrt(variance + (float)options.Epsilon));
            }
        }
    }

    /// <summary>
    /// The optimized kernel's own element-wise tail loop never runs (MIOpen): in every run its vector
    /// loop covers, the last (length mod lanes) elements stay unwritten, at whatever width it runs.
    /// </summary>
    private sealed class VectorTailSkipped() : FaultyKernel("tail-skipped", "the element-wise loop's vector tail is never written")
    {
        private readonly OptimizedBatchNorm<SkippedTail> planted = new();

        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) =>
            planted.ForwardTraining(shape, options, t);
    }

    /// <summary>The optimized kernel's own tail loop steps by 2 (MIOpen): every other tail element is never written.</summary>
    private sealed class TailWrongStride() : FaultyKernel("tail-wrong-stride", "the element-wise tail loop steps by 2, skipping every other tail element")
    {
        private readonly OptimizedBatchNorm<StridedTail> planted = new();

        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) =>
            planted.ForwardTraining(shape, options, t);
    }

    /// <summary>A tail loop that never runs.</summary>
    private readonly struct SkippedTail : IElementwiseTail
    {
        public static bool Runs => false;

        public static int Step => 1;
    }

    /// <summary>A tail loop that steps by 2.</summary>
    private readonly struct StridedTail : IElementwiseTail
    {
        public static bool Runs => true;

        public static int Step => 2;
    }

    /// <summary>
    /// Channels-last: the last channel of a row past the vector body takes its neighbour's
    /// coefficients (oneDNN's IC tail). A rewrite after the correct kernel is the honest form here:
    /// this kernel's channels-last loop runs over whole rows as one run, so it has no per-row
    /// channel tail to plant the bug in.
    /// </summary>
    private sealed class ChannelTailOffByOne() : FaultyKernel("channel-tail-off-by-one", "channels-last: the tail channel uses channel C-2's coefficients")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            Correct.ForwardTraining(shape, options, t);
            int last = shape.C - 1;
            if (shape.Layout != Layout.ChannelsLast || shape.C < 2 || shape.C % 16 == 0)
                return;
            int wrong = last - 1;
            float scale = t.BatchInvStd[wrong] * ChannelParameter.ScaleAt(t.Gamma, wrong), shift = ChannelParameter.ShiftAt(t.Beta, wrong);
            foreach (int i in shape.ChannelOffsets(last))
                t.Y[i] = (t.X[i] - t.BatchMean[wrong]) * scale + shift;
        }
    }

    /// <summary>istd = 1 / (sqrt(var) + eps).</summary>
    private sealed class EpsilonOutsideSqrt() : FaultyKernel("eps-outside-sqrt", "istd = 1/(sqrt(var) + eps) instead of 1/sqrt(var + eps)")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            CorrectWithoutRunningUpdate(shape, options, t);
            for (int c = 0; c < shape.C; c++)
                RewriteChannel(shape, options, t, c, t.BatchMean[c], t.BatchVariance[c], 1f / (MathF.Sqrt(t.BatchVariance[c]) + (float)options.Epsilon));
        }
    }

    /// <summary>Normalizes with the unbiased variance var·M/(M-1).</summary>
    private sealed class UnbiasedNormalization() : FaultyKernel("unbiased-normalize", "normalizes with the unbiased variance var*M/(M-1)")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            CorrectWithoutRunningUpdate(shape, options, t);
            for (int c = 0; c < shape.C; c++)
            {
                // Only the normalization is wrong; the batch statistics and the running update stay right.
                float unbiased = t.BatchVariance[c] * shape.M / (shape.M - 1);
                RewriteChannel(shape, options, t, c, t.BatchMean[c], t.BatchVariance[c], 1f / MathF.Sqrt(unbiased + (float)options.Epsilon));
            }
        }
    }

    /// <summary>The running update weighs the batch by 1 - w instead of w.</summary>
    private sealed class MomentumReversed() : FaultyKernel("momentum-reversed", "running statistics weigh the batch by 1-w instead of w")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            float[] oldMean = t.RunningMean.ToArray(), oldVariance = t.RunningVariance.ToArray();
            Correct.ForwardTraining(shape, options, t);
            if (oldMean.Length == 0)
                return;
            var reversed = options with { Momentum = 1 - options.Momentum };
            for (int c = 0; c < shape.C; c++)
            {
                t.RunningMean[c] = (float)RunningStatsRule.UpdateMean(reversed.Convention, reversed.Momentum, oldMean[c], t.BatchMean[c]);
                t.RunningVariance[c] = (float)RunningStatsRule.UpdateVariance(reversed.Convention, reversed.Momentum, oldVariance[c], t.BatchVariance[c], shape.M);
            }
        }
    }

    /// <summary>Training backward without the -mean(dy) term.</summary>
    private sealed class BackwardWithoutMeanDy() : FaultyKernel("backward-no-mean-dy", "training dx leaves out the -mean(dy) term")
    {
        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            Correct.BackwardTraining(shape, t);
            for (int c = 0; c < shape.C; c++)
                RewriteTrainingDx(shape, t, c, meanDyTerm: false, xhatTerm: true);
        }
    }

    /// <summary>Training backward without the -xhat·mean(dy·xhat) term.</summary>
    private sealed class BackwardWithoutXhatTerm() : FaultyKernel("backward-no-xhat-term", "training dx leaves out the -xhat*mean(dy*xhat) term")
    {
        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            Correct.BackwardTraining(shape, t);
            for (int c = 0; c < shape.C; c++)
                RewriteTrainingDx(shape, t, c, meanDyTerm: true, xhatTerm: false);
        }
    }

    /// <summary>Training backward with the inference formula dx = gamma·istd·dy.</summary>
    private sealed class BackwardInferenceFormula() : FaultyKernel("backward-inference-formula", "training dx uses the inference formula gamma*istd*dy")
    {
        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            Correct.BackwardTraining(shape, t);
            for (int c = 0; c < shape.C; c++)
                RewriteTrainingDx(shape, t, c, meanDyTerm: false, xhatTerm: false);
        }
    }

    /// <summary>The mean's float sum runs in an order that changes from call to call, as a reduction that follows thread scheduling does.</summary>
    private sealed class ScheduleDependentReduction() : FaultyKernel("schedule-dependent-reduction", "the mean's float sum order depends on scheduling")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            CorrectWithoutRunningUpdate(shape, options, t);
            for (int c = 0; c < shape.C; c++)
            {
                float[] values = Channel(shape, t.X, c);
                Random.Shared.Shuffle(values);
                float sum = 0;
                foreach (float v in values)
                    sum += v;
                RewriteChannel(shape, options, t, c, sum / shape.M, t.BatchVariance[c], t.BatchInvStd[c]);
            }
        }
    }

    /// <summary>istd from a 14-bit reciprocal square root estimate (AVX-512 vrsqrt14ps) without a Newton step.</summary>
    private sealed class ApproximateRsqrt() : FaultyKernel("rsqrt-14-bit", "istd from a 14-bit rsqrt estimate with no Newton step")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            CorrectWithoutRunningUpdate(shape, options, t);
            for (int c = 0; c < shape.C; c++)
            {
                // Keep 14 significant bits: a relative error up to 2^-14, as the estimate has.
                float estimate = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(t.BatchInvStd[c]) & ~0x1FF);
                RewriteChannel(shape, options, t, c, t.BatchMean[c], t.BatchVariance[c], estimate);
            }
        }
    }

    /// <summary>A NaN channel poisons the next channel's y (a shared accumulator not reset).</summary>
    private sealed class NaNLeak() : FaultyKernel("nan-leak", "a NaN channel makes the next channel's y NaN")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            Correct.ForwardTraining(shape, options, t);
            for (int c = 0; c + 1 < shape.C; c++)
            {
                if (!float.IsNaN(t.BatchMean[c]) && !float.IsNaN(t.BatchVariance[c]))
                    continue;
                foreach (int i in shape.ChannelOffsets(c + 1))
                    t.Y[i] = float.NaN;
            }
        }
    }

    /// <summary>Bessel's correction M/(M-1) applied to the running variance under every convention: NaN at M = 1 (PyTorch, TensorFlow fused).</summary>
    private sealed class BesselAtM1() : FaultyKernel("bessel-at-m1", "the running variance takes var*M/(M-1) under every convention, NaN at M = 1")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            float[] oldVariance = t.RunningVariance.ToArray();
            Correct.ForwardTraining(shape, options, t);
            double w = RunningStatsRule.BatchWeight(options.Convention, options.Momentum);
            for (int c = 0; c < oldVariance.Length; c++)
                t.RunningVariance[c] = (float)(((1 - w) * oldVariance[c]) + (w * t.BatchVariance[c] * shape.M / (shape.M - 1)));
        }
    }

    /// <summary>Writes one element past the end of y.</summary>
    private sealed class WritePastEnd() : FaultyKernel("write-past-end", "writes one element past the end of y")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            Correct.ForwardTraining(shape, options, t);
            Unsafe.Add(ref MemoryMarshal.GetReference(t.Y), t.Y.Length) = t.Y[^1];
        }
    }

    /// <summary>
    /// The element of y of largest magnitude is 64 ULPs off. (An element near 0 would not do: its
    /// 64 ULPs can be smaller than the rounding of |gamma·xhat| that made it, which no verifier may
    /// reject.)
    /// </summary>
    private sealed class OneElementOff64Ulp() : FaultyKernel("one-element-64-ulp", "the largest |y| is 64 ULPs off")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            Correct.ForwardTraining(shape, options, t);
            int largest = LargestFinite(t.Y);
            if (largest >= 0)
                t.Y[largest] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(t.Y[largest]) + 64);
        }

        private static int LargestFinite(ReadOnlySpan<float> values)
        {
            int at = -1;
            for (int i = 0; i < values.Length; i++)
            {
                if (float.IsFinite(values[i]) && (at < 0 || Math.Abs(values[i]) > Math.Abs(values[at])))
                    at = i;
            }

            return at;
        }
    }
}
