using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BatchNorm.Harness.Kernels;

/// <summary>
/// One planted bug for each guard of the verifier that is not a bound: a bug that guard alone catches, so a guard
/// that stopped looking (at dx, before an output, past the first output, at per-channel outputs, at dx's format) lets
/// its kernel pass and a test fails (tests/Unit/GuardZooTests). The outputs stay within their bounds, so no other
/// check fires. The bfloat16 format guard's kernel is <c>faulty:bf16-dx-not-rounded</c> (<see cref="FaultyPrecisionKernels"/>).
/// </summary>
internal static class FaultyGuardKernels
{
    private static readonly Func<FaultyKernel>[] Factories = [() => new NaNInDx(), () => new WriteBeforeStart(), () => new NondeterministicLastOutput(), () => new DGammaSummedInFloat()];

    /// <summary>Every guard fault's short name.</summary>
    public static IReadOnlyList<string> Names { get; } = Factories.Select(f => f().Name[FaultyKernels.Prefix.Length..]).ToArray();

    /// <summary>Every guard fault, freshly made.</summary>
    public static IReadOnlyList<FaultyKernel> All => Factories.Select(f => f()).ToArray();

    /// <summary>The NaN placement guard on dx: one dx element NaN (the first), every other output right.</summary>
    private sealed class NaNInDx() : FaultyKernel("nan-in-dx", "the first dx element is NaN (a scratch slot read before it is written)")
    {
        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            base.BackwardTraining(shape, t);
            t.Dx[0] = float.NaN;
        }

        public override void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
        {
            base.BackwardInference(shape, options, t);
            t.Dx[0] = float.NaN;
        }
    }

    /// <summary>The canary before an output: the training forward writes one float just before batch_invstd (a loop that starts at -1), its own values right.</summary>
    private sealed class WriteBeforeStart() : FaultyKernel("write-before-start", "writes one element before the start of batch_invstd")
    {
        public override void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            base.ForwardTraining(shape, options, t);
            Unsafe.Add(ref MemoryMarshal.GetReference(t.BatchInvStd), -1) = t.BatchInvStd[0];
        }
    }

    /// <summary>
    /// The determinism check past the first output: the training backward's last output, dbeta, has its lowest bit
    /// flipped on every other call (a reduction whose order follows the scheduler), far inside its bound.
    /// </summary>
    private sealed class NondeterministicLastOutput() : FaultyKernel("nondeterministic-dbeta", "dbeta's last bit differs between calls")
    {
        private int calls;

        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            base.BackwardTraining(shape, t);
            if (Interlocked.Increment(ref calls) % 2 == 0 && float.IsFinite(t.DBeta[0]) && t.DBeta[0] != 0)
                t.DBeta[0] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(t.DBeta[0]) ^ 1);
        }
    }

    /// <summary>
    /// The accuracy ratchet on a per-channel output: the optimized kernel after a change that sums dgamma in float,
    /// one term after another. Within its double contract's dgamma bound ((F + 3u) Σ|dy xhat|: the terms' own roundings
    /// dominate) and tens of times the optimized kernel's recorded error, so only the ratchet, holding it to those
    /// records (<see cref="FaultyKernel.RatchetedAs"/>), fails it.
    /// </summary>
    private sealed class DGammaSummedInFloat() : FaultyKernel("dgamma-float-sum", "dgamma summed in float, one term after another, where the kernel sums in double")
    {
        public override NumericalContract? Contract => OptimizedKernel.Declared;

        public override string? RatchetedAs => "optimized";

        public override void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            base.BackwardTraining(shape, t);
            SumDGammaInFloat(shape, t);
        }
    }

    /// <summary>
    /// Rewrites dgamma as a float sum, one term dy·xhat after another (dy gated by a fused ReLU's forward y where one is
    /// given): the regression <c>faulty:dgamma-float-sum</c> plants, and tests plant in other kernels.
    /// </summary>
    public static void SumDGammaInFloat(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        for (int c = 0; c < shape.C; c++)
        {
            float sum = 0, mean = t.SavedMean[c], invStd = t.SavedInvStd[c];
            foreach (int i in shape.ChannelOffsets(c))
            {
                float dy = !t.ForwardY.IsEmpty && t.ForwardY[i] <= 0 ? 0f : t.Dy[i];
                sum += dy * ((t.X[i] - mean) * invStd);
            }

            t.DGamma[c] = sum;
        }
    }
}
