using System.Diagnostics;
using System.Runtime.CompilerServices;
using BatchNorm.Optimized;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>Tests that pin threads run alone, so no other test's loop holds the helper they look at.</summary>
[CollectionDefinition(nameof(ThreadPlacement), DisableParallelization = true)]
public sealed class ThreadPlacement;

/// <summary>Runs a test only on Linux with at least two CPUs this process may use.</summary>
public sealed class RequiresTwoLinuxCpusFactAttribute : FactAttribute
{
    public RequiresTwoLinuxCpusFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
            Skip = "thread placement is Linux-only";
        else if (LinuxAffinity.Allowed().Length < 2)
            Skip = "needs two CPUs this process may use (taskset allows fewer)";
    }
}

/// <summary>
/// A fork-join helper woken onto its caller's CPU moves off it before it works (HelperPlacement). The
/// test forces the bad case: the helper is first restricted to the caller's CPU, which is what the
/// scheduler's wake-up placement does to it some of the time. Results cannot show placement (tasks
/// compute the same wherever they run), so only this test notices a helper that stays put.
/// </summary>
[Collection(nameof(ThreadPlacement))]
public class HelperPlacementTests
{
    private const string HelperThreadPrefix = "bnverify fork-join helper";

    [RequiresTwoLinuxCpusFact]
    public void AHelperOnItsCallersCpuMovesOffItBeforeItRunsATask()
    {
        int[] allowed = LinuxAffinity.Allowed();
        int callerCpu = LinuxAffinity.CurrentCpu();
        Assert.Contains(callerCpu, allowed);
        try
        {
            LinuxAffinity.Restrict([callerCpu]);

            // First loop: the helper that joins restricts itself to the caller's CPU.
            Assert.True(RunUntilAHelperJoins(new PinningBody(callerCpu)), "no helper joined any of 10 two-thread loops of 40 one-millisecond tasks");

            // Second loop: that helper wakes on the caller's CPU (the only one it may use) and must move.
            var cpus = new int[40];
            Assert.True(RunUntilAHelperJoins(new RecordingBody(cpus)), "no helper joined any of 10 two-thread loops of 40 one-millisecond tasks");
            int[] helperCpus = [.. cpus.Where(cpu => cpu >= 0)];
            Assert.NotEmpty(helperCpus);
            Assert.All(helperCpus, cpu => Assert.NotEqual(callerCpu, cpu));
        }
        finally
        {
            LinuxAffinity.Restrict(allowed);
        }
    }

    /// <summary>Runs 40 tasks of 1 ms each on two threads until one of them ran on a helper (at most 10 loops).</summary>
    private static bool RunUntilAHelperJoins<TBody>(TBody body) where TBody : struct, IForkJoinBody, IJoinedFlag
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            body.Reset();
            ForkJoin.For(40, 2, body);
            if (body.HelperJoined)
                return true;
        }

        return false;
    }

    private static bool OnHelper => Thread.CurrentThread.Name?.StartsWith(HelperThreadPrefix, StringComparison.Ordinal) == true;

    private static void BusyMillisecond()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMilliseconds(1))
            Thread.SpinWait(100);
    }

    private interface IJoinedFlag
    {
        bool HelperJoined { get; }

        void Reset();
    }

    private readonly struct PinningBody(int cpu) : IForkJoinBody, IJoinedFlag
    {
        private readonly StrongBox<bool> joined = new();

        public bool HelperJoined => joined.Value;

        public void Reset() => joined.Value = false;

        public void Run(int task)
        {
            if (OnHelper)
            {
                LinuxAffinity.Restrict([cpu]);
                joined.Value = true;
            }

            BusyMillisecond();
        }
    }

    /// <summary>Records, per task, the CPU a helper ran it on (-1: the caller ran it).</summary>
    private readonly struct RecordingBody(int[] cpus) : IForkJoinBody, IJoinedFlag
    {
        public bool HelperJoined => cpus.Any(cpu => cpu >= 0);

        public void Reset() => Array.Fill(cpus, -1);

        public void Run(int task)
        {
            if (OnHelper)
                cpus[task] = LinuxAffinity.CurrentCpu();
            BusyMillisecond();
        }
    }
}
