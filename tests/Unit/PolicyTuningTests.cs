using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Verification;
using BatchNorm.Optimized;
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
    public void TheCandidatesTakeTurnsThenTheFastestIsKept()
    {
        var tuning = new PolicyTuning([Rule, Second, Third]);
        // Every round (the untimed one, then the timed ones): the rule 100 ticks, the second 99 (within the margin), the third 80.
        long[] perCall = [100, 99, 80];
        for (int call = 0; call < 3 * (PolicyTuning.TimedRounds + 1); call++)
        {
            Assert.Null(tuning.Chosen);
            var policy = tuning.Next(out int trial);
            Assert.Equal(call, trial);
            Assert.Equal(new[] { Rule, Second, Third }[call % 3], policy);
            tuning.Record(trial, perCall[call % 3]);
        }

        Assert.Equal(Third, tuning.Chosen);
        Assert.Equal(Third, tuning.Next(out int after));
        Assert.Equal(-1, after);
    }

    [Fact]
    public void TheRuleIsKeptUnlessAnotherIsFasterByTheMargin()
    {
        var tuning = Tuned([Rule, Second], [100, 98]);
        Assert.Equal(Rule, tuning.Chosen);
        Assert.Equal(Second, Tuned([Rule, Second], [100, 96]).Chosen);
    }

    /// <summary>The first call of each candidate is untimed: a slow first call (cold caches, page faults) does not decide.</summary>
    [Fact]
    public void EachCandidatesFirstCallIsNotCounted()
    {
        var tuning = new PolicyTuning([Rule, Second]);
        long[][] byRound = [[1, 1000], .. Enumerable.Repeat<long[]>([100, 50], PolicyTuning.TimedRounds)];
        foreach (long[] round in byRound)
        {
            foreach (long ticks in round)
            {
                tuning.Next(out int trial);
                tuning.Record(trial, ticks);
            }
        }

        Assert.Equal(Second, tuning.Chosen);
    }

    /// <summary>The median of the timed rounds decides, not one lucky round.</summary>
    [Fact]
    public void OneFastRoundDoesNotDecide()
    {
        var tuning = new PolicyTuning([Rule, Second]);
        long[][] byRound = [[100, 100], [100, 10], .. Enumerable.Repeat<long[]>([100, 200], PolicyTuning.TimedRounds - 1)];
        foreach (long[] round in byRound)
        {
            foreach (long ticks in round)
            {
                tuning.Next(out int trial);
                tuning.Record(trial, ticks);
            }
        }

        Assert.Equal(Rule, tuning.Chosen);
    }

    /// <summary>While the last trials run, further calls take the rule's policy untimed.</summary>
    [Fact]
    public void CallsBeyondTheTrialsRunTheRuleUntimed()
    {
        var tuning = new PolicyTuning([Rule, Second]);
        for (int i = 0; i < 2 * (PolicyTuning.TimedRounds + 1); i++)
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
            // Eight candidates at most, each an untimed call and the timed ones: this many calls finish every tuning.
            for (int call = 1; call <= 8 * (PolicyTuning.TimedRounds + 1); call++)
            {
                var again = KernelRun.Execute(kernel, @case, inputs).Outputs;
                foreach (var (output, values) in first)
                    Assert.True(values.AsSpan().SequenceEqual(again[output]), $"{pass} {output}: call {call} stored other bits");
            }
        }

        Assert.True(PolicyTunings.CandidatesTimed(shape) > KernelCases.AllPasses.Length, "no pass timed more than the rule's policy");
        Assert.Equal(KernelCases.AllPasses.Length, PolicyTunings.Chosen(shape).Count);
    }

    /// <summary>A shape with 128 channels whose forward data (x and y) is an eighth of the last-level cache: the smallest that is tuned.</summary>
    private static TensorShape Tunable(Layout layout)
    {
        int c = RowsWalkPolicy.MinWideRow;
        int s = (int)Math.Min(LastLevelCache.Bytes / 8 / (2 * sizeof(float)) / (2 * c), 1 << 16);
        return new TensorShape(2, c, s, layout);
    }

    /// <summary>A tuning fed the same ticks for each candidate in every round.</summary>
    private static PolicyTuning Tuned(MemoryPolicy[] candidates, long[] ticks)
    {
        var tuning = new PolicyTuning(candidates);
        for (int call = 0; call < candidates.Length * (PolicyTuning.TimedRounds + 1); call++)
        {
            tuning.Next(out int trial);
            tuning.Record(trial, ticks[call % candidates.Length]);
        }

        return tuning;
    }
}
