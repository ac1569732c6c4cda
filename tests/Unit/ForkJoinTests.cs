using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The fork-join runner: every task runs exactly once, tasks really run at the same time when
/// threads are allowed, and a task's exception reaches the caller. Kernel results cannot show the
/// second (a serial runner gives the same values), so a runner that silently stopped using threads
/// would pass every other test.
/// </summary>
public class ForkJoinTests
{
    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 1)]
    [InlineData(1, 4)]
    [InlineData(5, 1)]
    [InlineData(37, 2)]
    [InlineData(37, 64)]
    public void EveryTaskRunsExactlyOnce(int count, int degreeOfParallelism)
    {
        foreach (var order in Enum.GetValues<TaskOrder>())
        {
            int[] runs = new int[count];
            ForkJoin.For(count, degreeOfParallelism, new CountingBody(runs), order);
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    /// <summary>On one thread the tasks run in the order asked for: a pass's apply last chunk first.</summary>
    [Fact]
    public void OneThreadRunsTheTasksInTheOrderAskedFor()
    {
        var order = new List<int>();
        ForkJoin.For(4, 1, new RecordingBody(order), TaskOrder.Backward);
        ForkJoin.For(3, 1, new RecordingBody(order), TaskOrder.Forward);
        Assert.Equal([3, 2, 1, 0, 0, 1, 2], order);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TasksRunConcurrentlyWhenThreadsAreAllowed(int degreeOfParallelism)
    {
        // Each task waits at a barrier for all the others: a runner that ran them one after another
        // would leave the first waiting until the timeout. The timeout is generous because a busy
        // test machine may be slow to hand out a pool thread.
        using var barrier = new Barrier(degreeOfParallelism);
        bool[] met = new bool[degreeOfParallelism];
        ForkJoin.For(degreeOfParallelism, degreeOfParallelism, new BarrierBody(barrier, met, TimeSpan.FromSeconds(10)));
        Assert.All(met, Assert.True);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void ATasksExceptionReachesTheCallerAfterTheOtherTasksFinish(int degreeOfParallelism)
    {
        int[] runs = new int[12];
        var error = Assert.Throws<InvalidOperationException>(() => ForkJoin.For(runs.Length, degreeOfParallelism, new ThrowingBody(runs, failing: 5)));
        Assert.Equal("task 5 failed", error.Message);
        if (degreeOfParallelism > 1)
            Assert.All(runs, r => Assert.Equal(1, r));   // the runner waits for every task before rethrowing
    }

    private readonly struct CountingBody(int[] runs) : IForkJoinBody
    {
        public void Run(int task) => Interlocked.Increment(ref runs[task]);
    }

    private readonly struct RecordingBody(List<int> order) : IForkJoinBody
    {
        public void Run(int task) => order.Add(task);
    }

    private readonly struct BarrierBody(Barrier barrier, bool[] met, TimeSpan timeout) : IForkJoinBody
    {
        public void Run(int task) => met[task] = barrier.SignalAndWait(timeout);
    }

    private readonly struct ThrowingBody(int[] runs, int failing) : IForkJoinBody
    {
        public void Run(int task)
        {
            Interlocked.Increment(ref runs[task]);
            if (task == failing)
                throw new InvalidOperationException($"task {task} failed");
        }
    }
}
