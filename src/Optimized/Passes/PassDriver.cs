using System.Buffers;
using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Passes;

/// <summary>
/// Runs a pass over a <see cref="Partition"/>: prepare every channel; for an
/// <see cref="IReducingPass"/>, reduce every chunk in parallel into its own partial-sum slots and
/// combine each channel's partials in chunk order to finalize it; then apply every chunk in parallel. Each task writes only its
/// own slots and elements, so the result does not depend on which thread ran what.
/// </summary>
internal static unsafe class PassDriver
{
    /// <summary>
    /// Channels finalized per task when finalization is its own phase. A task reads every chunk's
    /// partial sums of its channels, half of them from the other core's cache, so small tasks cost
    /// more than they share: with 64 channels a task, 64x256x14x14 channels-last took 18-20 us to
    /// finalize on two threads against 7 on one; with 512, 4 us (and 256x1024 3.8 against 6.8).
    /// </summary>
    private const int FinalizeBlock = 512;

    /// <summary>Runs a pass without a reduction: prepare every channel, then apply every chunk in parallel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply<TP, TV, TTail>(TP pass, in TensorShape shape, int degreeOfParallelism)
        where TP : struct, IBatchNormPass
        where TV : struct, IFloatVector<TV>
        where TTail : struct, IElementwiseTail
    {
        var plan = Partition.ForApply(shape);
        var call = new ApplyCall<TP, TV, TTail>(pass, plan, degreeOfParallelism);
        PolicyTunings.Run<TP, TV, ApplyCall<TP, TV, TTail>>(shape, degreeOfParallelism, plan, pass.InputTensors, reduces: false, ref call);
    }

    /// <summary>Runs a pass with a reduction: prepare, reduce every chunk, finalize every channel, apply every chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TP, TV, TW, TTail>(TP pass, in TensorShape shape, int degreeOfParallelism)
        where TP : struct, IReducingPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TTail : struct, IElementwiseTail
    {
        var plan = Partition.For(shape);
        var call = new ReduceCall<TP, TV, TW, TTail>(pass, plan, degreeOfParallelism);
        PolicyTunings.Run<TP, TV, ReduceCall<TP, TV, TW, TTail>>(shape, degreeOfParallelism, plan, pass.InputTensors, reduces: true, ref call);
    }

    /// <summary>A pass without a reduction under a memory policy (only its store kind applies).</summary>
    private readonly struct ApplyCall<TP, TV, TTail>(TP pass, Partition plan, int degreeOfParallelism) : IPolicyCall
        where TP : struct, IBatchNormPass
        where TV : struct, IFloatVector<TV>
        where TTail : struct, IElementwiseTail
    {
        public void Run(MemoryPolicy policy)
        {
            var job = new ApplyJob<TP, TV, TTail>(pass, plan, policy.Streaming, degreeOfParallelism);
            WithScratch(plan.C, partialCount: 0, pass.Output, ref job);
        }
    }

    /// <summary>A pass with a reduction under a memory policy: its store kind and rows walk.</summary>
    private readonly struct ReduceCall<TP, TV, TW, TTail>(TP pass, Partition plan, int degreeOfParallelism) : IPolicyCall
        where TP : struct, IReducingPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TTail : struct, IElementwiseTail
    {
        public void Run(MemoryPolicy policy)
        {
            var job = new ReduceJob<TP, TV, TW, TTail>(pass, plan, policy.Streaming, policy.Walk, degreeOfParallelism);
            WithScratch(plan.C, plan.C * plan.Chunks, pass.Output, ref job);
        }
    }

    /// <summary>What runs once the call's scratch is rented and pinned.</summary>
    private interface IScratchUser
    {
        void Run(in Scratch scratch);
    }

    /// <summary>Rents the O(C) scratch (centers and two sets of partial sums in double, the coefficient table in float), pins it for the job, returns it.</summary>
    private static void WithScratch<TJob>(int c, int partialCount, float* output, ref TJob job) where TJob : struct, IScratchUser
    {
        double[] doubles = ArrayPool<double>.Shared.Rent(c + 2 * partialCount);
        float[] floats = ArrayPool<float>.Shared.Rent(Scratch.TableFloats(c));
        try
        {
            fixed (double* d = doubles)
            fixed (float* f = floats)
            {
                job.Run(new Scratch(d, d + c, d + c + partialCount, Scratch.Coefficients(f, output), c));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(doubles);
            ArrayPool<float>.Shared.Return(floats);
        }
    }

    private readonly struct ApplyJob<TP, TV, TTail>(TP pass, Partition plan, bool streaming, int degreeOfParallelism) : IScratchUser
        where TP : struct, IBatchNormPass
        where TV : struct, IFloatVector<TV>
        where TTail : struct, IElementwiseTail
    {
        public void Run(in Scratch scratch)
        {
            pass.Prepare(scratch);
            scratch.CompleteWrap();
            var apply = new ApplyBody<TP, TV, TTail>(pass, plan, scratch, streaming);
            ForkJoin.For(plan.Tasks, degreeOfParallelism, apply);
        }
    }

    private readonly struct ReduceJob<TP, TV, TW, TTail>(TP pass, Partition plan, bool streaming, RowsWalk walk, int degreeOfParallelism) : IScratchUser
        where TP : struct, IReducingPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TTail : struct, IElementwiseTail
    {
        public void Run(in Scratch scratch)
        {
            pass.Prepare(scratch);
            var body = new Body<TP, TV, TW, TTail>(pass, plan, walk, scratch, new ApplyBody<TP, TV, TTail>(pass, plan, scratch, streaming));
            if (plan.ChannelPerTask)
            {
                Parallel(Phase.Whole, plan.C, degreeOfParallelism, body);
            }
            else
            {
                Parallel(Phase.Reduce, plan.Tasks, degreeOfParallelism, body);
                Parallel(Phase.Finalize, (plan.C + FinalizeBlock - 1) / FinalizeBlock, degreeOfParallelism, body);
                scratch.CompleteWrap();
                Parallel(Phase.Apply, plan.Tasks, degreeOfParallelism, body);
            }
        }
    }

    /// <summary>
    /// Runs one phase's tasks. The apply takes each worker's home range back to front: the reduction, which took the
    /// same ranges front to back, has just read the last chunks of each, whose lines are the likeliest still to be in
    /// that worker's caches (64x256x14x14 channels-last, 2 threads, in one process against first-to-last: training
    /// forward 1.65 -> 1.49 ms, backward 2.49 -> 2.28; 32x64x56x56 channels-last backward 3.68 -> 3.18, measured when
    /// the tasks were claimed from one counter, last chunk first).
    /// </summary>
    private static void Parallel<TP, TV, TW, TTail>(Phase phase, int count, int degreeOfParallelism, Body<TP, TV, TW, TTail> body)
        where TP : struct, IReducingPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TTail : struct, IElementwiseTail
    {
        ForkJoin.For(count, degreeOfParallelism, new PhaseBody<TP, TV, TW, TTail>(body, phase), phase == Phase.Apply ? TaskOrder.Backward : TaskOrder.Forward);
    }

    /// <summary>One phase of a <see cref="Body{TP, TV, TW, TTail}"/> as a fork-join body.</summary>
    private readonly struct PhaseBody<TP, TV, TW, TTail>(Body<TP, TV, TW, TTail> body, Phase phase) : IForkJoinBody
        where TP : struct, IReducingPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TTail : struct, IElementwiseTail
    {
        public void Run(int task) => body.Run(phase, task);
    }

    private enum Phase
    {
        Reduce,
        Finalize,
        Apply,
        Whole,
    }

    /// <summary>The task bodies of every phase of a reducing pass over one partition and scratch.</summary>
    private readonly struct Body<TP, TV, TW, TTail>(TP pass, Partition plan, RowsWalk walk, Scratch scratch, ApplyBody<TP, TV, TTail> apply)
        where TP : struct, IReducingPass
        where TV : struct, IFloatVector<TV>
        where TW : struct, IDoubleAccumulator<TW, TV>
        where TTail : struct, IElementwiseTail
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(Phase phase, int task)
        {
            switch (phase)
            {
                case Phase.Reduce:
                    Reduce(task);
                    break;
                case Phase.Finalize:
                    int first = task * FinalizeBlock, end = Math.Min(plan.C, (task + 1) * FinalizeBlock);
                    if (plan.Traversal != Traversal.ChannelRuns)
                    {
                        CombineChunkPartials(first, end - first);
                        pass.FinalizeBlock(first, end - first, scratch.FirstPartials + first, scratch.SecondPartials + first, scratch);
                        break;
                    }

                    for (int c = first; c < end; c++)
                        Finalize(c);
                    break;
                case Phase.Apply:
                    apply.Run(task);
                    break;
                case Phase.Whole:
                    // A whole channel in one task: its values are still in cache for the apply.
                    Reduce(task);
                    Finalize(task);
                    apply.Run(task);
                    break;
                default:
                    throw new InvalidOperationException($"no body for phase {phase}");
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Reduce(int task)
        {
            if (plan.Traversal == Traversal.ChannelRuns)
            {
                int c = task / plan.Chunks;
                double first = 0, second = 0, center = scratch.Centers[c];
                foreach (var run in Runs(task))
                    pass.ReduceRun<TV, TW>(run.Offset, run.Length, center, ref first, ref second);
                scratch.FirstPartials[task] = first;
                scratch.SecondPartials[task] = second;
                return;
            }

            // Per-channel partial sums of this task, in its own slots.
            double* firsts = scratch.FirstPartials + (nint)task * plan.C, seconds = scratch.SecondPartials + (nint)task * plan.C;
            new Span<double>(firsts, plan.C).Clear();
            new Span<double>(seconds, plan.C).Clear();
            (long start, long end) = plan.ChunkRange(task);
            if (plan.Traversal == Traversal.Rows)
            {
                for (long row = start; row < end; row += pass.RowBlock)
                    pass.ReduceRows<TV, TW>((nint)(row * plan.C), (int)Math.Min(pass.RowBlock, end - row), scratch.Centers, firsts, seconds, walk);
                return;
            }

            for (long n = start; n < end; n++)
            {
                for (int c = 0; c < plan.C; c++)
                    pass.ReduceRun<TV, TW>((nint)(((n * plan.C) + c) * plan.S), plan.S, scratch.Centers[c], ref firsts[c], ref seconds[c]);
            }
        }

        /// <summary>
        /// Rows and sample runs: adds every chunk's partial sums of channels [c0, c0 + count) into chunk 0's slots, in
        /// chunk order and a vector of channels at a time. Chunk 0's slots then hold each channel's
        /// sums, bit for bit what adding its partials one by one from 0 gives (0 + p is p: a sum that
        /// starts at +0 is never -0).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void CombineChunkPartials(int c0, int count)
        {
            for (int k = 1; k < plan.Chunks; k++)
            {
                nint from = ((nint)k * plan.C) + c0;
                Reductions.AddPartials<TV, TW>(scratch.FirstPartials + c0, scratch.FirstPartials + from, count);
                Reductions.AddPartials<TV, TW>(scratch.SecondPartials + c0, scratch.SecondPartials + from, count);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Finalize(int c)
        {
            // Channel runs: channel c's partials are its own chunks' slots, c*Chunks + k.
            double first = 0, second = 0;
            for (int k = 0; k < plan.Chunks; k++)
            {
                nint slot = ((nint)c * plan.Chunks) + k;
                first += scratch.FirstPartials[slot];
                second += scratch.SecondPartials[slot];
            }

            pass.Finalize(c, first, second, scratch);
        }

        private RunEnumerator Runs(int task) => new(plan, task);
    }

    /// <summary>The apply phase of any pass: element-wise over a task's chunk, with the channel coefficients the pass prepared or finalized.</summary>
    private readonly struct ApplyBody<TP, TV, TTail>(TP pass, Partition plan, Scratch scratch, bool streaming) : IForkJoinBody
        where TP : struct, IBatchNormPass
        where TV : struct, IFloatVector<TV>
        where TTail : struct, IElementwiseTail
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int task)
        {
            switch (plan.Traversal)
            {
                case Traversal.ChannelRuns:
                    var uniform = Uniform(task / plan.Chunks);
                    foreach (var run in Runs(task))
                        pass.ApplyRun<TV, UniformCoefficients, TTail>(run.Offset, run.Length, uniform, streaming);
                    break;
                case Traversal.SampleRuns:
                    (long first, long last) = plan.ChunkRange(task);
                    InMemoryOrder(first * plan.C * plan.S, last * plan.C * plan.S);
                    break;
                case Traversal.Elements:
                    (long from, long to) = plan.ChunkRange(task);
                    InMemoryOrder(from, to);
                    break;
                case Traversal.Rows:
                    // The chunk's rows are contiguous: one run, whose element i is channel i mod C.
                    var periodic = new PeriodicCoefficients(scratch.Table, plan.C, scratch.TableStride);
                    (long start, long end) = plan.ChunkRange(task);
                    pass.ApplyRun<TV, PeriodicCoefficients, TTail>((nint)(start * plan.C), (nint)((end - start) * plan.C), periodic, streaming);
                    break;
                default:
                    throw new InvalidOperationException($"no apply for traversal {plan.Traversal}");
            }

            // Non-temporal stores are weakly ordered: fence them before another thread reads the output.
            // No test can see a missing fence on x86, where the fork-join runner's interlocked join
            // also drains them; the fence is what the memory model requires, so it stays.
            // Stryker disable once all : not observable by a test on x86 (see above).
            if (streaming && System.Runtime.Intrinsics.X86.Sse.IsSupported)
                System.Runtime.Intrinsics.X86.Sse.StoreFence();
        }

        /// <summary>
        /// Channels-first elements [from, to) in memory order, one run per row (a channel of a sample)
        /// or part of one. Element e is value e mod S of row e / S, which is channel (e / S) mod C:
        /// the divisions once, then each further run starts a row, of the next channel.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void InMemoryOrder(long from, long to)
        {
            long row = Math.DivRem(from, plan.S, out long inRow);
            int channel = (int)(row % plan.C);
            while (from < to)
            {
                long length = Math.Min(plan.S - inRow, to - from);
                pass.ApplyRun<TV, UniformCoefficients, TTail>((nint)from, (nint)length, Uniform(channel), streaming);
                from += length;
                inRow = 0;
                channel = channel + 1 == plan.C ? 0 : channel + 1;
            }
        }

        private UniformCoefficients Uniform(int c) =>
            new(scratch.Coefficient(0, c), scratch.Coefficient(1, c), scratch.Coefficient(2, c), scratch.Coefficient(3, c));

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

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
