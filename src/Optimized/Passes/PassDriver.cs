using System.Buffers;
using BatchNorm.Optimized.Kernels;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// Runs an <see cref="IBatchNormPass"/> over a <see cref="Partition"/>: prepare every channel,
/// reduce every chunk in parallel into its own partial-sum slots, combine each channel's partials
/// in chunk order and finalize it, then apply every chunk in parallel. Each task writes only its
/// own slots and elements, so the result does not depend on which thread ran what.
/// </summary>
internal static unsafe class PassDriver
{
    /// <summary>Channels finalized per task when finalization is its own phase.</summary>
    private const int FinalizeBlock = 64;

    public static void Run<TP, TV, TW>(TP pass, in TensorShape shape, int degreeOfParallelism)
        where TP : struct, IBatchNormPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        var plan = Partition.For(shape);
        int c = shape.C;
        int partialCount = pass.HasReduction ? c * plan.Chunks : 0;
        double[] doubles = ArrayPool<double>.Shared.Rent(c + 2 * partialCount);
        float[] floats = ArrayPool<float>.Shared.Rent(4 * c);
        try
        {
            fixed (double* d = doubles)
            fixed (float* f = floats)
            {
                var scratch = new Scratch(d, d + c, d + c + partialCount, f, c);
                for (int channel = 0; channel < c; channel++)
                    pass.Prepare(channel, scratch);
                var body = new Body<TP, TV, TW>(pass, plan, scratch);
                if (!pass.HasReduction)
                {
                    Parallel(Phase.Apply, plan.Tasks, degreeOfParallelism, body);
                }
                else if (plan.ChannelPerTask)
                {
                    Parallel(Phase.Whole, c, degreeOfParallelism, body);
                }
                else
                {
                    Parallel(Phase.Reduce, plan.Tasks, degreeOfParallelism, body);
                    Parallel(Phase.Finalize, (c + FinalizeBlock - 1) / FinalizeBlock, degreeOfParallelism, body);
                    Parallel(Phase.Apply, plan.Tasks, degreeOfParallelism, body);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(doubles);
            ArrayPool<float>.Shared.Return(floats);
        }
    }

    private static void Parallel<TP, TV, TW>(Phase phase, int count, int degreeOfParallelism, Body<TP, TV, TW> body)
        where TP : struct, IBatchNormPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        if (degreeOfParallelism <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++)
                body.Run(phase, i);
            return;
        }

        System.Threading.Tasks.Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism }, i => body.Run(phase, i));
    }

    private enum Phase
    {
        Reduce,
        Finalize,
        Apply,
        Whole,
    }

    /// <summary>The task bodies of every phase over one pass, partition and scratch.</summary>
    private readonly struct Body<TP, TV, TW>(TP pass, Partition plan, Scratch scratch)
        where TP : struct, IBatchNormPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
    {
        public void Run(Phase phase, int task)
        {
            switch (phase)
            {
                case Phase.Reduce:
                    Reduce(task);
                    break;
                case Phase.Finalize:
                    for (int c = task * FinalizeBlock; c < Math.Min(plan.C, (task + 1) * FinalizeBlock); c++)
                        Finalize(c);
                    break;
                case Phase.Apply:
                    Apply(task);
                    break;
                default:
                    // A whole channel in one task: its values are still in cache for the apply.
                    Reduce(task);
                    Finalize(task);
                    Apply(task);
                    break;
            }
        }

        private void Reduce(int task)
        {
            if (plan.Layout == Layout.ChannelsFirst)
            {
                int c = task / plan.Chunks;
                double first = 0, second = 0, center = scratch.Centers[c];
                foreach (var run in Runs(task))
                    pass.ReduceRun<TV, TW>(run.Offset, run.Length, center, ref first, ref second);
                scratch.FirstPartials[task] = first;
                scratch.SecondPartials[task] = second;
            }
            else
            {
                double* first = scratch.FirstPartials + (nint)task * plan.C, second = scratch.SecondPartials + (nint)task * plan.C;
                new Span<double>(first, plan.C).Clear();
                new Span<double>(second, plan.C).Clear();
                (long start, long end) = plan.ChunkRange(task);
                for (long row = start; row < end; row++)
                    pass.ReduceRow<TV, TW>((nint)(row * plan.C), scratch.Centers, first, second);
            }
        }

        private void Finalize(int c)
        {
            double first = 0, second = 0;
            for (int k = 0; k < plan.Chunks; k++)
            {
                nint slot = plan.Layout == Layout.ChannelsFirst ? ((nint)c * plan.Chunks) + k : ((nint)k * plan.C) + c;
                first += scratch.FirstPartials[slot];
                second += scratch.SecondPartials[slot];
            }

            pass.Finalize(c, first, second, scratch);
        }

        private void Apply(int task)
        {
            if (plan.Layout == Layout.ChannelsFirst)
            {
                int c = task / plan.Chunks, n = plan.C;
                float* t = scratch.Table;
                var coefficients = new UniformCoefficients(t[c], t[n + c], t[(2 * n) + c], t[(3 * n) + c]);
                foreach (var run in Runs(task))
                    pass.ApplyRun<TV, UniformCoefficients>(run.Offset, run.Length, coefficients);
            }
            else
            {
                var coefficients = new PerChannelCoefficients(scratch.Table, plan.C);
                (long start, long end) = plan.ChunkRange(task);
                for (long row = start; row < end; row++)
                    pass.ApplyRun<TV, PerChannelCoefficients>((nint)(row * plan.C), plan.C, coefficients);
            }
        }

        /// <summary>Channels-first: the contiguous runs (within one sample) of a task's range of one channel.</summary>
        private RunEnumerator Runs(int task) => new(plan, task);
    }

    private struct RunEnumerator(Partition plan, int task)
    {
        private readonly int c = task / plan.Chunks;
        private long position = plan.ChunkRange(task % plan.Chunks).Start;
        private readonly long end = plan.ChunkRange(task % plan.Chunks).End;

        public (nint Offset, nint Length) Current { get; private set; }

        public readonly RunEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (position >= end)
                return false;
            long n = Math.DivRem(position, plan.S, out long s);
            long length = Math.Min(plan.S - s, end - position);
            Current = ((nint)((((n * plan.C) + c) * plan.S) + s), (nint)length);
            position += length;
            return true;
        }
    }
}
