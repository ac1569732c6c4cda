using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// A fork-join loop's tasks in home ranges (<see cref="TaskRanges"/>): a worker takes its own range front to back, then
/// what is left of the others from their backs, and every task is handed out exactly once.
/// </summary>
public class TaskRangesTests
{
    [Fact]
    public void AWorkerTakesItsRangeFrontToBackThenTheOthersFromTheirBacks()
    {
        var ranges = new TaskRanges(10, 2);
        Assert.Equal([5, 6, 7, 8, 9, 4, 3, 2, 1, 0, -1], Drain(ranges, home: 1));
    }

    /// <summary>Backward (a pass's apply): a worker takes its range back to front, then the others from their fronts.</summary>
    [Fact]
    public void BackwardAWorkerTakesItsRangeBackToFrontThenTheOthersFromTheirFronts()
    {
        var ranges = new TaskRanges(10, 2, TaskOrder.Backward);
        Assert.Equal([4, 3, 2, 1, 0, 5, 6, 7, 8, 9, -1], Drain(ranges, home: 0));
    }

    /// <summary>Two workers at equal pace split the tasks at the ranges' boundary, so each runs the same tasks in every loop so cut.</summary>
    [Fact]
    public void WorkersAtEqualPaceEachKeepTheirOwnRange()
    {
        var ranges = new TaskRanges(9, 3);
        var taken = new List<int>[] { [], [], [] };
        for (int turn = 0; turn < 3; turn++)
        {
            for (int home = 0; home < 3; home++)
                taken[home].Add(ranges.Claim(home));
        }

        Assert.Equal([[0, 1, 2], [3, 4, 5], [6, 7, 8]], taken.Select(t => t.ToArray()).ToArray());
        Assert.Equal(-1, ranges.Claim(0));
    }

    /// <summary>A worker with no range of its own (a late thread-pool helper) only takes what is left, from the backs.</summary>
    [Fact]
    public void AWorkerWithoutARangeTakesFromTheBacks()
    {
        var ranges = new TaskRanges(6, 2);
        Assert.Equal(0, ranges.Claim(0));
        int[] left = Drain(ranges, home: 5);
        // Ranges [1, 3) and [3, 6) are left: each taken from its back, whichever comes first.
        Assert.Equal([-1, 1, 2, 3, 4, 5], left.Order());
        Assert.True(Array.IndexOf(left, 2) < Array.IndexOf(left, 1) && Array.IndexOf(left, 5) < Array.IndexOf(left, 4), string.Join(", ", left));
    }

    /// <summary>More ranges than tasks leaves some empty; fewer than one is one.</summary>
    [Theory]
    [InlineData(3, 5)]
    [InlineData(3, 0)]
    [InlineData(0, 2)]
    public void EveryTaskOnceWhateverTheCut(int count, int rangeCount)
    {
        var ranges = new TaskRanges(count, rangeCount);
        Assert.Equal(Enumerable.Range(0, count), Drain(ranges, home: 0).SkipLast(1).Order());
    }

    /// <summary>Workers racing on every range hand out each task exactly once.</summary>
    [Fact]
    public void RacingWorkersTakeEachTaskExactlyOnce()
    {
        const int Count = 200_000, Workers = 4;
        var ranges = new TaskRanges(Count, Workers);
        int[] runs = new int[Count];
        // Home Workers is no range: a worker that only steals, racing the owners at the backs.
        Parallel.For(0, Workers + 1, new ParallelOptions { MaxDegreeOfParallelism = Workers + 1 }, home =>
        {
            int task;
            while ((task = ranges.Claim(home)) >= 0)
                Interlocked.Increment(ref runs[task]);
        });
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    /// <summary>Every claim of one worker until the first -1, that included.</summary>
    private static int[] Drain(TaskRanges ranges, int home)
    {
        var taken = new List<int>();
        int task;
        do
            taken.Add(task = ranges.Claim(home));
        while (task >= 0);
        return [.. taken];
    }
}
