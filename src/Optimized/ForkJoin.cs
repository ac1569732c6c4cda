using System.Runtime.ExceptionServices;

namespace BatchNorm.Optimized;

/// <summary>A task body run by <see cref="ForkJoin"/>: independent tasks 0..count-1.</summary>
internal interface IForkJoinBody
{
    void Run(int task);
}

/// <summary>
/// A light parallel for-loop: the calling thread works too, helpers come from the thread pool,
/// and tasks are claimed one at a time from a shared counter. Which thread runs which task does
/// not matter to the results: every task writes only its own outputs. Cheaper than Parallel.For
/// for the few-microsecond phases of small tensors; allocates one small job object per loop.
/// </summary>
internal static class ForkJoin
{
    public static void For<TBody>(int count, int degreeOfParallelism, TBody body) where TBody : struct, IForkJoinBody
    {
        if (degreeOfParallelism <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++)
                body.Run(i);
            return;
        }

        var job = new Job<TBody>(count, body);
        // Stryker disable once Arithmetic,Linq : equivalent, a helper beyond the needed ones finds no task and returns.
        for (int h = Math.Min(degreeOfParallelism, count) - 1; h > 0; h--)
        {
            // Stryker disable once Boolean : equivalent, which queue a helper waits in changes when it starts, not what it does.
            ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        }

        job.Work();
        job.WaitForAll();
    }

    private sealed class Job<TBody>(int count, TBody body) : IThreadPoolWorkItem where TBody : struct, IForkJoinBody
    {
        private int next;
        private int completed;
        private Exception? failure;

        public void Execute() => Work();

        /// <summary>Claims and runs tasks until none are left. A helper that starts late finds none and touches nothing.</summary>
        public void Work()
        {
            int task;
            while ((task = Interlocked.Increment(ref next) - 1) < count)
            {
                try
                {
                    body.Run(task);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
                finally
                {
                    Interlocked.Increment(ref completed);
                }
            }
        }

        /// <summary>Waits until every claimed task has finished (tasks are short, so spinning is the cheap way), then rethrows a task's exception.</summary>
        public void WaitForAll()
        {
            var spinner = default(SpinWait);
            // Stryker disable once Block : equivalent, how the caller waits (spin, yield or sleep) changes latency only.
            while (Volatile.Read(ref completed) < count)
            {
                // Stryker disable once all : equivalent, how the caller waits (spin, yield or sleep) changes latency only.
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            if (failure is not null)
                ExceptionDispatchInfo.Throw(failure);
        }
    }
}
