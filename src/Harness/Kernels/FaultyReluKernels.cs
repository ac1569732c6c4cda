namespace BatchNorm.Harness.Kernels;

/// <summary>
/// The planted bugs of a fused ReLU, each the correct optimized kernel with one ReLU step wrong.
/// They behave as the correct kernel when nothing is fused, so only the relu battery
/// (<c>verify --activation relu</c>) can reject them, and it must reject each.
/// </summary>
internal static class FaultyReluKernels
{
    private static readonly Func<FaultyKernel>[] Factories =
    [
        () => new NotApplied(), () => new BeforeAffine(), () => new Leaky(), () => new GateIgnored(), () => new GateInclusive(), () => new GateFromInput(),
    ];

    /// <summary>Every faulty ReLU kernel's short name.</summary>
    public static IReadOnlyList<string> Names { get; } = Factories.Select(f => f().Name[FaultyKernels.Prefix.Length..]).ToArray();

    /// <summary>Every faulty ReLU kernel, freshly made.</summary>
    public static IReadOnlyList<FaultyKernel> All => Factories.Select(f => f()).ToArray();

    /// <summary>A faulty kernel that claims every activation (the bug is in how it fuses one).</summary>
    private abstract class ReluFault(string name, string bug) : FaultyKernel(name, bug)
    {
        public override bool Supports(Activation activation) => Enum.IsDefined(activation);

        /// <summary>The backward's gate as the bug computes it: dy where <paramref name="passes"/> holds, else 0.</summary>
        protected static float[] Gated(ReadOnlySpan<float> dy, Func<int, bool> passes)
        {
            float[] gated = new float[dy.Length];
            for (int i = 0; i < dy.Length; i++)
                gated[i] = passes(i) ? dy[i] : 0f;
            return gated;
        }
    }

    /// <summary>The forward ignores the activation it was asked for: plain batch norm, negative values stored.</summary>
    private sealed class NotApplied() : ReluFault("relu-not-applied", "the forward passes store y without the ReLU")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t) =>
            Correct.ForwardTraining(shape, options with { Activation = Activation.None }, t);

        public override void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) =>
            Correct.ForwardInference(shape, options with { Activation = Activation.None }, t);
    }

    /// <summary>ReLU on xhat before the affine step: y = gamma * max(xhat, 0) + beta.</summary>
    private sealed class BeforeAffine() : ReluFault("relu-before-affine", "the ReLU is applied to xhat, before gamma and beta")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            Correct.ForwardTraining(shape, options, t);
            if (options.Activation != Activation.Relu)
                return;
            for (int c = 0; c < shape.C; c++)
            {
                float gamma = ChannelParameter.ScaleAt(t.Gamma, c), beta = ChannelParameter.ShiftAt(t.Beta, c), mean = t.BatchMean[c], invStd = t.BatchInvStd[c];
                foreach (int i in shape.ChannelOffsets(c))
                    t.Y[i] = gamma * MathF.Max((t.X[i] - mean) * invStd, 0f) + beta;
            }
        }
    }

    /// <summary>A leaky ReLU (slope 0.01 below 0) where ReLU was asked: clamped values come out slightly negative.</summary>
    private sealed class Leaky() : ReluFault("relu-leaky", "negative values are scaled by 0.01 instead of clamped to 0")
    {
        public override void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
        {
            Correct.ForwardInference(shape, options with { Activation = Activation.None }, t);
            if (options.Activation != Activation.Relu)
                return;
            foreach (ref float y in t.Y)
                y = y < 0 ? 0.01f * y : y;
        }
    }

    /// <summary>The backward ignores the forward's y: every dy passes, as in plain batch norm.</summary>
    private sealed class GateIgnored() : ReluFault("relu-gate-ignored", "the backward passes dy everywhere, ignoring the forward's y")
    {
        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) =>
            Correct.BackwardTraining(shape, t with { ForwardY = [] });

        public override void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) =>
            Correct.BackwardInference(shape, options with { Activation = Activation.None }, t with { ForwardY = [] });
    }

    /// <summary>The gate tests y &lt; 0 instead of y ≤ 0: a clamped element's y is exactly 0, so every dy passes.</summary>
    private sealed class GateInclusive() : ReluFault("relu-gate-inclusive", "the backward zeroes dy where y < 0 instead of y <= 0")
    {
        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            float[] forwardY = t.ForwardY.ToArray();
            Correct.BackwardTraining(shape, forwardY.Length == 0 ? t : t with { Dy = Gated(t.Dy, i => !(forwardY[i] < 0)), ForwardY = [] });
        }
    }

    /// <summary>The gate reads the input x instead of the forward's output y.</summary>
    private sealed class GateFromInput() : ReluFault("relu-gate-from-x", "the backward zeroes dy where x <= 0 instead of y <= 0")
    {
        public override void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
        {
            float[] x = t.X.ToArray();
            if (options.Activation != Activation.Relu)
                Correct.BackwardInference(shape, options, t);
            else
                Correct.BackwardInference(shape, options with { Activation = Activation.None }, t with { Dy = Gated(t.Dy, i => !(x[i] <= 0)), ForwardY = [] });
        }
    }
}
