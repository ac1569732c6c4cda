using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace BatchNorm.Optimized;

/// <summary>A task body run by <see cref="ForkJoin"/>: independent tasks 0..count-1.</summary>
internal interface IForkJoinBody
{
    void Run(int task);
}

/// <summary>
/// A light parallel for-loop: the calling thread works too, and every worker claims tasks one at a
/// time, first from its own home range, then from what the others left (<see cref="TaskRanges"/>).
/// Helpers are <see cref="Helpers"/>' own threads, which spin briefly after each loop (as OpenMP's
/// do) so the next phase or call starts without a wake-up; a helper that is
/// busy with another caller's loop is replaced by a thread-pool thread. Which thread runs which
/// task does not matter to the results: every task writes only its own outputs. Allocates one
/// small job object and its ranges (a long a worker) per loop.
/// </summary>
internal static class ForkJoin
{
    /// <summary>Runs tasks 0..count-1 on up to <paramref name="degreeOfParallelism"/> threads, each thread taking its home range in <paramref name="order"/>.</summary>
    public static void For<TBody>(int count, int degreeOfParallelism, TBody body, TaskOrder order = TaskOrder.Forward) where TBody : struct, IForkJoinBody
    {
        if (degreeOfParallelism <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++)
                body.Run(order == TaskOrder.Forward ? i : count - 1 - i);
            return;
        }

        int workers = Math.Min(degreeOfParallelism, count);
        var job = new Job<TBody>(body, HelperPlacement.CurrentCpu(), new TaskRanges(count, workers, order));
        // Stryker disable once Arithmetic,Linq : equivalent, a helper beyond the needed ones finds no task and returns.
        Helpers.Offer(job, workers - 1);
        job.WorkAsCaller();
        job.WaitForAll();
        // A helper that has not picked the job up yet never will: take it back, so the helper is free for the next loop.
        // Stryker disable once Statement : equivalent, a job left in a slot is claimed late and finds no task; only speed changes.
        Helpers.Retract(job);
    }

    private sealed class Job<TBody>(TBody body, int posterCpu, TaskRanges ranges) : IHelperWork where TBody : struct, IForkJoinBody
    {
        private int arrivals;
        private int completed;
        private Exception? failure;

        public int PosterCpu => posterCpu;

        public void Execute() => Work();

        /// <summary>The caller's share: home range 0, then whatever is left elsewhere.</summary>
        public void WorkAsCaller() => Work(0);

        /// <summary>A helper's share: the next home range not taken (in arrival order), then whatever is left.</summary>
        public void Work() => Work(Interlocked.Increment(ref arrivals));

        /// <summary>Claims and runs tasks until none are left. A helper that starts late finds none and touches nothing.</summary>
        private void Work(int home)
        {
            int task;
            while ((task = ranges.Claim(home)) >= 0)
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
            while (Volatile.Read(ref completed) < ranges.Count)
            {
                // Stryker disable once all : equivalent, how the caller waits (spin, yield or sleep) changes latency only.
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            if (failure is not null)
                ExceptionDispatchInfo.Throw(failure);
        }
    }
}

/// <summary>Work a helper thread can run: claim and run tasks until none are left.</summary>
internal interface IHelperWork : IThreadPoolWorkItem
{
    /// <summary>The CPU the caller ran on when it posted the work, or -1 when unknown: where a helper should not run it.</summary>
    int PosterCpu { get; }

    void Work();
}

/// <summary>
/// The helper threads of <see cref="ForkJoin"/>: created on first need (one per extra degree of
/// parallelism asked for, at most <see cref="MaxHelpers"/>), each with a one-job slot. An idle helper
/// spins for <see cref="SpinMicroseconds"/> watching its slot, then sleeps until a job is posted. A
/// helper woken onto its caller's CPU moves off it (<see cref="HelperPlacement"/>) before it works.
/// </summary>
internal static class Helpers
{
    /// <summary>How long an idle helper keeps watching its slot before it sleeps: longer than the gap between a pass's phases and between back-to-back calls.</summary>
    public const int SpinMicroseconds = 50;

    /// <summary>How long a caller waits for a busy helper to finish before it asks the thread pool instead: far longer than a helper takes to leave a finished loop.</summary>
    public const int BusyWaitMicroseconds = 20;

    /// <summary>More helpers than this come from the thread pool.</summary>
    public const int MaxHelpers = 64;

    private static readonly Lock Growing = new();
    private static volatile Helper[] helpers = [];

    /// <summary>Hands <paramref name="job"/> to <paramref name="count"/> helpers: idle own threads first, then thread-pool threads.</summary>
    public static void Offer(IHelperWork job, int count)
    {
        var own = helpers;
        if (own.Length < Math.Min(count, MaxHelpers))
            own = Grow(Math.Min(count, MaxHelpers));
        for (int i = 0; i < own.Length && count > 0; i++)
        {
            if (own[i].TryPost(job))
                count--;
        }

        for (; count > 0; count--)
        {
            // Stryker disable once Boolean : equivalent, which queue a helper waits in changes when it starts, not what it does.
            ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        }
    }

    /// <summary>Takes <paramref name="job"/> back from every own helper that has not picked it up yet.</summary>
    public static void Retract(IHelperWork job)
    {
        foreach (var helper in helpers)
            helper.Retract(job);
    }

    private static Helper[] Grow(int count)
    {
        lock (Growing)
        {
            var current = helpers;
            if (current.Length >= count)
                return current;
            var grown = new Helper[count];
            current.CopyTo(grown, 0);
            for (int i = current.Length; i < count; i++)
                grown[i] = new Helper(i);
            helpers = grown;
            return grown;
        }
    }

    /// <summary>One helper thread and its slot: null when idle, a job when one is posted, <see cref="Busy"/> while it runs one.</summary>
    private sealed class Helper
    {
        private static readonly object Busy = new();
        private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        private static readonly long BusyWaitTicks = Stopwatch.Frequency * BusyWaitMicroseconds / 1_000_000;

        private readonly ManualResetEventSlim wake = new(false, spinCount: 0);
        private object? slot;
        private int sleeping;

        public Helper(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"bnverify fork-join helper {index}" };
            thread.Start();
        }

        /// <summary>
        /// Posts the job if this helper is idle, or becomes idle within <see cref="BusyWaitMicroseconds"/>;
        /// false when it stays busy (another caller's loop) or already has a job.
        /// </summary>
        public bool TryPost(IHelperWork job)
        {
            long since = 0;
            object? seen;
            while ((seen = Interlocked.CompareExchange(ref slot, job, null)) is not null)
            {
                // A helper is still leaving the caller's previous loop when the caller's next one
                // starts (its last task is done, its claim of none is not): wait for it rather than
                // wake a thread-pool thread, which may land on the caller's own core.
                // Stryker disable all : equivalent, how long a caller waits for a busy helper changes which thread runs the tasks, not what they compute.
                if (seen != Busy)
                    return false;
                if (since == 0)
                    since = Stopwatch.GetTimestamp();
                else if (Stopwatch.GetTimestamp() - since > BusyWaitTicks)
                    return false;
                Thread.SpinWait(1);
                // Stryker restore all
            }

            // The helper either sees the job before it sleeps, or has said it sleeps: both are full fences.
            if (Volatile.Read(ref sleeping) == 1)
                wake.Set();
            return true;
        }

        /// <summary>Empties the slot if it still holds <paramref name="job"/> (posted, not picked up).</summary>
        public void Retract(IHelperWork job) => Interlocked.CompareExchange(ref slot, null, job);

        private void Loop()
        {
            var placement = HelperPlacement.ForCurrentThread();
            while (true)
            {
                long idleSince = Stopwatch.GetTimestamp();
                object? posted;
                while ((posted = Volatile.Read(ref slot)) is null)
                {
                    if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }

                    Interlocked.Exchange(ref sleeping, 1);
                    if (Volatile.Read(ref slot) is null)
                        wake.Wait();
                    wake.Reset();
                    Interlocked.Exchange(ref sleeping, 0);
                    idleSince = Stopwatch.GetTimestamp();
                }

                // Claim it, unless its caller took it back meanwhile: from here until the slot is
                // null again, posters pass this helper by.
                if (Interlocked.CompareExchange(ref slot, Busy, posted) != posted)
                    continue;
                var work = (IHelperWork)posted;
                placement.MoveOff(work.PosterCpu);
                work.Work();
                Volatile.Write(ref slot, null);
            }
        }
    }
}
