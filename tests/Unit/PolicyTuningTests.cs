using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;
using BatchNorm.Optimized;
using BatchNorm.Optimized.Loops;
using BatchNorm.Optimized.Passes;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The memory policy a call runs with is measured on this machine (<see cref="PolicyTuning"/>): the candidates are
/// timed in turn on a shape's first calls, the fastest is kept, the rule's unless another is clearly faster, and
/// every candidate stores the same bits.
/// </summary>
public class PolicyTuningTests
{
    private static readonly MemoryPolicy Rule = new(true, RowsWalk.Rows), Second = new(false, RowsWalk.Rows), Third = new(true, RowsWalk.Panels);

    [Fact]
    public void TheCandidatesTakeTurnsInBlocksThenTheFastestIsKept()
    {
        var tuning = new PolicyTuning([Rule, Second, Third], TimeSpan.Zero);
        // Every call: the rule 100 ticks, the second 99 (within the margin), the third 80.
        long[] perCandidate = [100, 99, 80];
        MemoryPolicy[] order = [Rule, Second, Third];
        Settle(tuning);
        for (int call = 0; call < 3 * PolicyTuning.Blocks * PolicyTuning.CallsPerBlock; call++)
        {
            Assert.Null(tuning.Chosen);
            var policy = tuning.Next(out int trial);
            Assert.Equal(call, trial);
            // Back to back within a block, the blocks in turn: A A A A, B B B B, C C C C, A A A A, ...
            int candidate = call / PolicyTuning.CallsPerBlock % 3;
            Assert.Equal(order[candidate], policy);
            tuning.Record(trial, perCandidate[candidate]);
        }

        // The third won the first round; it is timed again against the rule's alone: A A A A, C C C C, A A A A, ...
        Assert.Null(tuning.Chosen);
        for (int call = 0; call < 2 * PolicyTuning.Blocks * PolicyTuning.CallsPerBlock; call++)
        {
            var policy = tuning.Next(out int trial);
            Assert.Equal(call, trial);
            Assert.Equal(call / PolicyTuning.CallsPerBlock % 2 == 0 ? Rule : Third, policy);
            tuning.Record(trial, policy == Rule ? 100 : 80);
        }

        Assert.Equal(Third, tuning.Chosen);
        Assert.Equal(Third, tuning.Next(out int after));
        Assert.Equal(-1, after);
    }

    /// <summary>A winner of one moment that the rule's beats in the confirmation round is not chosen.</summary>
    [Fact]
    public void AWinnerThatLosesItsConfirmationIsNotChosen()
    {
        // The second: fast in its first three blocks, as slow as the rule's in the confirmation.
        var tuning = Tuned([Rule, Second], (candidate, block, _) => candidate == 0 || block >= PolicyTuning.Blocks ? 100 : 50);
        Assert.Equal(Rule, tuning.Chosen);
        Assert.Equal(2, tuning.Figures.Count);
    }

    /// <summary>Until the confirmation is due, calls run the provisional winner untimed.</summary>
    [Fact]
    public void AProvisionalWinnerRunsUntimedUntilItsConfirmationIsDue()
    {
        var tuning = new PolicyTuning([Rule, Second], TimeSpan.FromHours(1));
        Settle(tuning);
        for (int call = 0; call < 2 * PolicyTuning.Blocks * PolicyTuning.CallsPerBlock; call++)
            tuning.Record(call, tuning.Next(out int trial) == Rule ? 100 : 50);
        for (int call = 0; call < 100; call++)
        {
            Assert.Equal(Second, tuning.Next(out int trial));
            Assert.Equal(-1, trial);
        }

        Assert.Null(tuning.Chosen);
        Assert.Single(tuning.Figures);
    }

    /// <summary>A shape's first calls fault in its pages and warm its caches: they run the rule's policy, untimed.</summary>
    [Fact]
    public void TheFirstCallsSettleUnderTheRuleUntimed()
    {
        var tuning = new PolicyTuning([Second, Rule]);
        // The very first call (a fresh shape's page faults) is never a trial.
        Assert.Equal(Second, tuning.Next(out int firstCall));
        Assert.Equal(-1, firstCall);
        for (int call = 1; call < PolicyTuning.SettleCalls; call++)
        {
            Assert.Equal(Second, tuning.Next(out int trial));
            Assert.Equal(-1, trial);
        }

        Assert.Equal(Second, tuning.Next(out int first));
        Assert.Equal(0, first);
    }

    /// <summary>The figures bench prints: each candidate's median in ms, the rule's first; none while tuning.</summary>
    [Fact]
    public void TheFiguresAreEachCandidatesMedian()
    {
        var tuning = new PolicyTuning([Rule, Second]);
        Assert.Empty(tuning.Figures);
        // Timed calls of the rule: 100, 101, 102, ... by block; of the second: 50 each, and one slow call of 5000.
        tuning = Tuned([Rule, Second], (candidate, block, position) => candidate == 0 ? 100 + (block * 3) + position : block == 1 && position == 2 ? 5000 : 50);
        double msPerTick = 1e3 / System.Diagnostics.Stopwatch.Frequency;
        // The first round, then the confirmation (blocks 3 to 5). The rule's 9 timed ticks of the first are 101 to
        // 109, median 105; of the confirmation 110 to 118, median 114.
        Assert.Equal(2, tuning.Figures.Count);
        Assert.All(tuning.Figures, f => Assert.Equal([Rule, Second], f.Select(c => c.Policy)));
        Assert.Equal(105 * msPerTick, tuning.Figures[0][0].MedianMs, 1e-12 * msPerTick);
        Assert.Equal(50 * msPerTick, tuning.Figures[0][1].MedianMs, 1e-12 * msPerTick);
        Assert.Equal(114 * msPerTick, tuning.Figures[1][0].MedianMs, 1e-12 * msPerTick);
        Assert.Equal(Second, tuning.Chosen);
    }

    [Fact]
    public void TheRuleIsKeptUnlessAnotherIsFasterByTheMargin()
    {
        Assert.Equal(Rule, Tuned([Rule, Second], (candidate, _, _) => candidate == 0 ? 100 : 98).Chosen);
        Assert.Equal(Second, Tuned([Rule, Second], (candidate, _, _) => candidate == 0 ? 100 : 96).Chosen);
    }

    /// <summary>The median of the timed calls decides, not one lucky call, nor a block's untimed first call.</summary>
    [Fact]
    public void OneFastCallDoesNotDecide()
    {
        // The second candidate: its untimed calls and one timed call fast, the rest slow.
        var tuning = Tuned([Rule, Second], (candidate, block, position) => candidate == 0 ? 100 : position == 0 || (block == 0 && position == 1) ? 10 : 200);
        Assert.Equal(Rule, tuning.Chosen);
    }

    /// <summary>While the last trials run, further calls take the rule's policy untimed.</summary>
    [Fact]
    public void CallsBeyondTheTrialsRunTheRuleUntimed()
    {
        var tuning = new PolicyTuning([Rule, Second]);
        for (int i = 0; i < PolicyTuning.SettleCalls + (2 * PolicyTuning.Blocks * PolicyTuning.CallsPerBlock); i++)
            tuning.Next(out _);
        Assert.Equal(Rule, tuning.Next(out int trial));
        Assert.Equal(-1, trial);
        Assert.Null(tuning.Chosen);
    }

    [Fact]
    public void ACallThatStaysInCacheHasOnlyTheRulesPolicy()
    {
        var small = new TensorShape(4, 128, 16, Layout.ChannelsLast);
        var candidates = MemoryPolicy.Candidates(Partition.For(small), small.ElementCount, inputTensors: 2, reduces: true);
        Assert.Equal([MemoryPolicy.Rule(Partition.For(small), small.ElementCount, 2, true)], candidates);
        Assert.Equal(MemoryPolicy.Rule(Partition.For(small), small.ElementCount, 2, true), new PolicyTuning(candidates).Chosen);
    }

    [Fact]
    public void AWideRowsReductionOutOfCacheTimesBothStoreKindsAndEveryWalk()
    {
        var shape = Tunable(Layout.ChannelsLast);
        var plan = Partition.For(shape);
        var candidates = MemoryPolicy.Candidates(plan, shape.ElementCount, inputTensors: 2, reduces: true);
        Assert.Equal(MemoryPolicy.Rule(plan, shape.ElementCount, 2, true), candidates[0]);
        Assert.Equal(2 * Enum.GetValues<RowsWalk>().Length, candidates.Distinct().Count());
        // Channels-first rows are a channel's values: only the store kind is timed.
        var first = Tunable(Layout.ChannelsFirst);
        Assert.Equal(2, MemoryPolicy.Candidates(Partition.For(first), first.ElementCount, 2, reduces: true).Length);
    }

    /// <summary>
    /// Every pass of the optimized kernel, called until its tuning has timed every candidate on a shape large enough to
    /// have several: each call's outputs equal the first call's bit for bit, so the policy a machine picks never
    /// changes a result.
    /// </summary>
    [Theory]
    [InlineData(Layout.ChannelsLast)]
    [InlineData(Layout.ChannelsFirst)]
    public void EveryCandidateStoresTheSameBits(Layout layout)
    {
        var shape = Tunable(layout);
        var kernel = KernelCases.OptimizedAt("optimized");
        foreach (var pass in KernelCases.AllPasses)
        {
            var @case = KernelCases.Case("tuned", shape.N, shape.C, shape.S, layout, pass);
            var inputs = CaseInputs.Draw(@case, 5);
            var first = KernelRun.Execute(kernel, @case, inputs).Outputs;
            // A reducing pass has the most candidates, each in its blocks: this many calls finish every tuning.
            int candidates = MemoryPolicy.Candidates(Partition.For(shape), shape.ElementCount, inputTensors: 1, reduces: true).Length;
            // And past a confirmation's delay: until this pass's tuning has chosen (within a minute, at least these calls).
            int chosenBefore = PolicyTunings.Chosen(shape).Count;
            var started = System.Diagnostics.Stopwatch.StartNew();
            for (int call = 1; call <= PolicyTuning.CallsToChoose(candidates) || (PolicyTunings.Chosen(shape).Count == chosenBefore && started.Elapsed < TimeSpan.FromMinutes(1)); call++)
            {
                var again = KernelRun.Execute(kernel, @case, inputs).Outputs;
                foreach (var (output, values) in first)
                    Assert.True(values.AsSpan().SequenceEqual(again[output]), $"{pass} {output}: call {call} stored other bits");
            }
        }

        Assert.True(PolicyTunings.CandidatesTimed(shape) > KernelCases.AllPasses.Length, "no pass timed more than the rule's policy");
        Assert.Equal(KernelCases.AllPasses.Length, PolicyTunings.Chosen(shape).Count);
        // What bench reports per pass: a generic pass by its definition, whatever its gradient source.
        Assert.Single(PolicyTunings.ChosenFor(typeof(ForwardTrainingPass), shape));
        Assert.Single(PolicyTunings.ChosenFor(typeof(BackwardTrainingPass<>), shape));
        Assert.Empty(PolicyTunings.ChosenFor(typeof(BackwardTrainingPass<Ungated>), shape));
    }

    /// <summary>A shape with 128 channels whose forward data (x and y) is an eighth of the last-level cache: the smallest that is tuned.</summary>
    private static TensorShape Tunable(Layout layout)
    {
        int c = RowsWalkPolicy.MinWideRow;
        int s = (int)Math.Min(LastLevelCache.Bytes / 8 / (2 * sizeof(float)) / (2 * c), 1 << 16);
        return new TensorShape(2, c, s, layout);
    }

    /// <summary>Hands out a tuning's settling calls (untimed: nothing to record).</summary>
    private static void Settle(PolicyTuning tuning)
    {
        for (int call = 0; call < PolicyTuning.SettleCalls; call++)
            tuning.Next(out _);
    }

    /// <summary>
    /// A tuning (confirming without delay) fed, for every trial it hands out until it has chosen, the ticks of
    /// (candidate, block, position in the block; 0 is the untimed call): a candidate's blocks counted over both rounds,
    /// the confirmation's from <see cref="PolicyTuning.Blocks"/> on.
    /// </summary>
    private static PolicyTuning Tuned(MemoryPolicy[] candidates, Func<int, int, int, long> ticks)
    {
        var tuning = new PolicyTuning(candidates, TimeSpan.Zero);
        int[] trials = new int[candidates.Length];
        for (int call = 0; call < PolicyTuning.CallsToChoose(candidates.Length) && tuning.Chosen is null; call++)
        {
            int candidate = Array.IndexOf(candidates, tuning.Next(out int trial));
            if (trial < 0)
                continue;
            int n = trials[candidate]++;
            tuning.Record(trial, ticks(candidate, n / PolicyTuning.CallsPerBlock, n % PolicyTuning.CallsPerBlock));
        }

        Assert.NotNull(tuning.Chosen);
        return tuning;
    }
}
