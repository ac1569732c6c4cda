namespace BatchNorm.Harness.Kernels;

/// <summary>
/// The planted bugs of a kernel that stores its data tensors in bfloat16: the optimized kernel
/// with its outputs rounded wrong, not rounded, or a statistic stored in the data format. Each
/// declares bfloat16, so the verifier runs the bf16 battery on it, which must reject it.
/// </summary>
internal static class FaultyPrecisionKernels
{
    private static readonly Func<FaultyKernel>[] Factories = [() => new Truncated(), () => new NotRounded(), () => new MeanInDataFormat(), () => new DxNotRounded()];

    /// <summary>Every faulty bfloat16 kernel's short name.</summary>
    public static IReadOnlyList<string> Names { get; } = Factories.Select(f => f().Name[FaultyKernels.Prefix.Length..]).ToArray();

    /// <summary>Every faulty bfloat16 kernel, freshly made.</summary>
    public static IReadOnlyList<FaultyKernel> All => Factories.Select(f => f()).ToArray();

    /// <summary>A bfloat16 kernel: the correct float32 one, then each data output rounded by <see cref="Store"/>.</summary>
    private abstract class BFloat16Fault(string name, string bug) : FaultyKernel(name, bug)
    {
        public override DataPrecision Precision => DataPrecision.BFloat16;

        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            base.ForwardTraining(shape, options, t);
            Store(t.Y);
        }

        public override void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
        {
            base.ForwardInference(shape, options, t);
            Store(t.Y);
        }

        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            base.BackwardTraining(shape, t);
            Store(t.Dx);
        }

        public override void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
        {
            base.BackwardInference(shape, options, t);
            Store(t.Dx);
        }

        /// <summary>How the fault writes a data output in bfloat16: correctly unless overridden.</summary>
        protected virtual void Store(Span<float> output) => DataPrecisions.RoundAll(output, DataPrecision.BFloat16);
    }

    /// <summary>Rounds toward zero (drops the low 16 bits) instead of to nearest: up to a whole bfloat16 ULP off.</summary>
    private sealed class Truncated() : BFloat16Fault("bf16-truncated", "data outputs rounded toward zero (low 16 bits dropped) instead of to nearest")
    {
        protected override void Store(Span<float> output)
        {
            foreach (ref float v in output)
                v = float.IsNaN(v) ? v : BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF_0000u);
        }
    }

    /// <summary>Writes its float32 results as they are: values a bfloat16 tensor cannot hold.</summary>
    private sealed class NotRounded() : BFloat16Fault("bf16-not-rounded", "data outputs left in float32 precision")
    {
        protected override void Store(Span<float> output)
        {
        }
    }

    /// <summary>
    /// Rounds y to bfloat16 but stores dx in float32 (a backward that writes its float accumulator): dx is within its
    /// bfloat16 bound, so only the check that every data output is a value of the format catches it.
    /// </summary>
    private sealed class DxNotRounded() : BFloat16Fault("bf16-dx-not-rounded", "dx left in float32 precision (y is rounded)")
    {
        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) => Correct.BackwardTraining(shape, t);

        public override void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) =>
            Correct.BackwardInference(shape, options, t);
    }

    /// <summary>Keeps the batch mean in bfloat16 and centres with it (training forward): y's intercept moves by up to 2^-8 |mean| istd.</summary>
    private sealed class MeanInDataFormat() : BFloat16Fault("bf16-mean", "the batch mean is stored in bfloat16 and x is centred with it")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            CorrectWithoutRunningUpdate(shape, options, t);
            for (int c = 0; c < shape.C; c++)
            {
                float mean = DataPrecisions.Round(t.BatchMean[c], DataPrecision.BFloat16);
                RewriteChannel(shape, options, t, c, mean, t.BatchVariance[c], t.BatchInvStd[c]);
            }

            Store(t.Y);
        }
    }
}
