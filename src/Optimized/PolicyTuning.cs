using System.Collections.Concurrent;
using System.Diagnostics;

namespace BatchNorm.Optimized;

/// <summary>
/// Chooses one call shape's <see cref="MemoryPolicy"/> from what this machine is measured to do: its first
/// <see cref="SettleCalls"/> calls run the rule's policy untimed, the next run the candidates in blocks of back-to-back
/// calls (an untimed call, then <see cref="TimedPerBlock"/> timed ones), each candidate in <see cref="Blocks"/> blocks
/// taken in turn so a slow period of a shared machine falls on all of them. The candidate with the lowest median time
/// wins the round; the rule's policy (first) is kept unless another is at least <see cref="Margin"/> faster. Another
/// winner runs provisionally and must win again, against the rule's alone, in a confirmation round at least
/// <see cref="ConfirmationDelay"/> later; only then is it chosen. Which policy runs never changes the bits stored.
/// </summary>
/// <remarks>
/// Why measure rather than derive: the rule sizes its thresholds from the last-level cache, but the same sizes
/// behaved differently on two AMD EPYCs with the same 32 MiB L3 (issue 30), and a guest may not report its cache
/// at all. The calls a tuner spends are the first few of each shape, the ones a warm-up or a first training step makes.
/// Why blocks rather than alternating call by call: a call's speed depends on what the call before it left in the
/// cache (a streamed call leaves its input there, a normal one its output), so alternating timed each candidate in
/// the other's wake: 64x256x14x14 channels-last inference chose streaming in one process and ran 0.29 ms, against
/// 0.15 ms for normal stores back to back.
/// Why settle first: a shape's first calls fault in its buffers' pages and find nothing of them in the caches, and the
/// calls after are slow for a while: 20.8, 0.73, 0.58, 0.53 ms, then 0.28-0.34, for 8x32x112x112 channels-last
/// training forward, whose first candidate was timed in that wake.
/// Why confirm later: a shared machine's memory bandwidth changes from moment to moment, and one round sees one
/// moment. 8x32x112x112 channels-first inference timed streaming at 0.171 ms against 0.181 for normal stores in one
/// round, chose it, and ran it at 0.291 ms for the rest of the sitting (normal stores: 0.16-0.19 in three others).
/// </remarks>
internal sealed class PolicyTuning
{
    /// <summary>Timed calls in a block, after its untimed one.</summary>
    public const int TimedPerBlock = 3;

    /// <summary>Blocks of each candidate in a round: three, in turn (A B A B A B), so a slow period does not fall on one candidate's calls alone.</summary>
    public const int Blocks = 3;

    /// <summary>Calls of a shape that run the rule's policy untimed before the first trial.</summary>
    public const int SettleCalls = 8;

    /// <summary>Calls a block makes: the untimed one and the timed ones.</summary>
    public const int CallsPerBlock = TimedPerBlock + 1;

    /// <summary>The timed calls of each candidate in a round: the median of these decides.</summary>
    public const int TimedRounds = TimedPerBlock * Blocks;

    /// <summary>How much faster (by median) another candidate must be than the rule's to win a round.</summary>
    public const double Margin = 0.97;

    /// <summary>How long after the first round a winner other than the rule's is timed again against it.</summary>
    public static readonly TimeSpan ConfirmationDelay = TimeSpan.FromMilliseconds(200);

    private readonly MemoryPolicy[] candidates;
    private readonly TimeSpan confirmationDelay;
    private readonly long[] ticks;
    private readonly List<IReadOnlyList<(MemoryPolicy Policy, double MedianMs)>> rounds = [];

    /// <summary>The candidates (indexes into <see cref="candidates"/>) the current round times: all, then the rule's and the provisional winner.</summary>
    private int[] round;
    private int settled;
    private int handedOut;
    private int recorded;

    /// <summary>The first round's winner while it awaits confirmation, else -1.</summary>
    private int provisional = -1;

    /// <summary>The <see cref="Stopwatch"/> timestamp before which the confirmation round does not start.</summary>
    private long confirmFrom;
    private volatile int chosen = -1;

    /// <summary>A tuning of <paramref name="candidates"/>, the rule's first, confirming another winner <paramref name="confirmationDelay"/> after the first round (default <see cref="ConfirmationDelay"/>).</summary>
    public PolicyTuning(MemoryPolicy[] candidates, TimeSpan? confirmationDelay = null)
    {
        if (candidates.Length == 0)
            throw new ArgumentException("a tuning needs at least the rule's policy", nameof(candidates));
        this.candidates = candidates;
        this.confirmationDelay = confirmationDelay ?? ConfirmationDelay;
        round = [.. Enumerable.Range(0, candidates.Length)];
        ticks = new long[candidates.Length * Blocks * CallsPerBlock];
        if (candidates.Length == 1)
            chosen = 0;
    }

    /// <summary>
    /// The most calls a tuning of <paramref name="candidates"/> policies (at least two) hands out before it has chosen,
    /// when each is made after the <see cref="ConfirmationDelay"/>: the settling ones, the first round's, the confirmation's.
    /// </summary>
    public static int CallsToChoose(int candidates) => SettleCalls + ((candidates + 2) * Blocks * CallsPerBlock);

    /// <summary>How many policies this tuning times (1: the rule's alone, chosen from the start).</summary>
    public int Candidates => candidates.Length;

    /// <summary>The policy chosen once every trial is recorded, or null while tuning.</summary>
    public MemoryPolicy? Chosen => chosen >= 0 ? candidates[chosen] : null;

    /// <summary>
    /// Each round's candidates with the median of their timed calls in milliseconds, the rule's first: the first round,
    /// then the confirmation when there was one. Empty before the first round ends and for a tuning of the rule's
    /// policy alone (it times nothing).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<(MemoryPolicy Policy, double MedianMs)>> Figures
    {
        get
        {
            lock (ticks)
                return [.. rounds];
        }
    }

    /// <summary>
    /// The policy for the next call, and its trial number to pass to <see cref="Record"/> (-1 when the call is not
    /// timed: it settles, awaits the confirmation, the choice is made, or every trial of the round is handed out and
    /// the last are still running). An untimed call runs the chosen policy, else the provisional winner while it
    /// awaits confirmation, else the rule's.
    /// </summary>
    public MemoryPolicy Next(out int trial)
    {
        trial = -1;
        if (chosen >= 0)
            return candidates[chosen];
        lock (ticks)
        {
            if (settled < SettleCalls)
            {
                settled++;
                return candidates[0];
            }

            if (provisional >= 0 && Stopwatch.GetTimestamp() < confirmFrom)
                return candidates[provisional];
            if (handedOut == RoundTrials)
                return candidates[0];
            trial = handedOut++;
        }

        return candidates[CandidateOf(trial)];
    }

    /// <summary>The trials of the current round: its candidates' blocks of calls.</summary>
    private int RoundTrials => round.Length * Blocks * CallsPerBlock;

    /// <summary>The candidate a trial runs: trials are blocks of <see cref="CallsPerBlock"/>, the blocks taking the round's candidates in turn.</summary>
    private int CandidateOf(int trial) => round[(trial / CallsPerBlock) % round.Length];

    /// <summary>Records a trial's elapsed <see cref="Stopwatch"/> ticks; the last of a round decides it.</summary>
    public void Record(int trial, long elapsedTicks)
    {
        if (trial < 0)
            return;
        lock (ticks)
        {
            ticks[trial] = elapsedTicks;
            if (++recorded == RoundTrials)
                Decide();
        }
    }

    /// <summary>
    /// Ends a round: its figures are kept; the rule's winning ends the tuning, as does the confirmation round; another
    /// winner of the first round becomes provisional and is timed against the rule's after <see cref="confirmationDelay"/>.
    /// </summary>
    private void Decide()
    {
        double[] medians = [.. round.Select((_, position) => Median(position))];
        rounds.Add([.. round.Select((candidate, position) => (candidates[candidate], medians[position] * 1e3 / Stopwatch.Frequency))]);
        int winner = round[Fastest(medians)];
        if (winner == 0 || provisional >= 0)
        {
            chosen = winner;
            return;
        }

        provisional = winner;
        round = [0, winner];
        (handedOut, recorded) = (0, 0);
        confirmFrom = Stopwatch.GetTimestamp() + (long)(confirmationDelay.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>The median of the timed calls of the round's candidate at <paramref name="position"/>, in ticks.</summary>
    private double Median(int position)
    {
        // The candidate's blocks are blocks position, position + k, ...; each block's first call is untimed.
        int k = round.Length;
        long[] timed = [.. Enumerable.Range(0, Blocks).SelectMany(b => Enumerable.Range(1, TimedPerBlock).Select(p => ticks[(((b * k) + position) * CallsPerBlock) + p]))];
        Array.Sort(timed);
        return (timed[(TimedRounds - 1) / 2] + timed[TimedRounds / 2]) / 2.0;
    }

    /// <summary>The position of the lowest of a round's <paramref name="medians"/>; the rule's (position 0) unless another beats it by <see cref="Margin"/>.</summary>
    private static int Fastest(double[] medians)
    {
        int best = 0;
        for (int position = 1; position < medians.Length; position++)
        {
            if (medians[position] < medians[best] && medians[position] < Margin * medians[0])
                best = position;
        }

        return best;
    }
}

/// <summary>
/// The tunings of every call shape seen: one per (pass, vector width, shape, threads), each giving the policy its
/// calls run with. Set <see cref="PolicyTuningSwitch.Variable"/> to "rule" to skip tuning and run the rule's policy on
/// every call (to measure the rule alone).
/// </summary>
internal static class PolicyTunings
{
    /// <summary>Call shapes tuned at most (only those large enough to have several candidates count); further ones run the rule's policy, so a process keeps O(1) memory.</summary>
    private const int MaxShapes = 1024;

    private static readonly ConcurrentDictionary<(Type Pass, Type Vector, TensorShape Shape, int Threads), PolicyTuning> Tunings = new();

    /// <summary>Runs <paramref name="call"/> of pass <typeparamref name="TPass"/> at width <typeparamref name="TVector"/> under the policy its tuning gives, timing it while tuning.</summary>
    public static void Run<TPass, TVector, TCall>(in TensorShape shape, int threads, in Partition plan, int inputTensors, bool reduces, ref TCall call)
        where TCall : struct, IPolicyCall
    {
        // Calls that stay in cache have the rule's policy alone: they are neither timed nor stored, so the shapes a
        // process sees without end (a hunt, a test run) never crowd out the ones worth tuning.
        if (!PolicyTuningSwitch.Tunes || !MemoryPolicy.Tunable(shape.ElementCount, inputTensors))
        {
            call.Run(MemoryPolicy.Rule(plan, shape.ElementCount, inputTensors, reduces));
            return;
        }

        var key = (typeof(TPass), typeof(TVector), shape, threads);
        if (!Tunings.TryGetValue(key, out var tuning))
        {
            if (Tunings.Count >= MaxShapes)
            {
                call.Run(MemoryPolicy.Rule(plan, shape.ElementCount, inputTensors, reduces));
                return;
            }

            tuning = Tunings.GetOrAdd(key, new PolicyTuning(MemoryPolicy.Candidates(plan, shape.ElementCount, inputTensors, reduces)));
        }

        var policy = tuning.Next(out int trial);
        if (trial < 0)
        {
            // Chosen (or past its trials): the call is not timed.
            call.Run(policy);
            return;
        }

        long start = Stopwatch.GetTimestamp();
        call.Run(policy);
        tuning.Record(trial, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>The policies chosen so far for calls of this shape, whatever their pass, width and threads (tuning ones left out).</summary>
    public static IReadOnlyList<MemoryPolicy> Chosen(TensorShape shape) => [.. ChosenAt(shape).Select(c => c.Policy)];

    /// <summary>
    /// The policies chosen so far for calls of this shape by passes of type <paramref name="pass"/> (a generic pass by its
    /// definition, whatever its gradient source), whatever their width and threads; empty while they tune or when none ran.
    /// </summary>
    public static IReadOnlyList<MemoryPolicy> ChosenFor(Type pass, TensorShape shape) =>
        [.. ChosenAt(shape).Where(c => Definition(c.Pass) == pass).Select(c => c.Policy).Distinct()];

    /// <summary>
    /// What the tunings of this shape by passes of type <paramref name="pass"/> measured (as <see cref="ChosenFor"/> selects
    /// them): each round's candidates with their median ms, one list per round; empty when none ran or none timed.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<(MemoryPolicy Policy, double MedianMs)>> FiguresFor(Type pass, TensorShape shape) =>
        [.. Tunings.Where(t => t.Key.Shape == shape && Definition(t.Key.Pass) == pass).SelectMany(t => t.Value.Figures)];

    /// <summary>Every tuning of this shape that has chosen, with its pass.</summary>
    private static IEnumerable<(Type Pass, MemoryPolicy Policy)> ChosenAt(TensorShape shape) =>
        Tunings.Where(t => t.Key.Shape == shape && t.Value.Chosen is not null).Select(t => (t.Key.Pass, t.Value.Chosen!.Value));

    private static Type Definition(Type type) => type.IsGenericType ? type.GetGenericTypeDefinition() : type;

    /// <summary>How many candidates the tunings of this shape timed, summed over its passes, widths and threads.</summary>
    public static int CandidatesTimed(TensorShape shape) => Tunings.Where(t => t.Key.Shape == shape).Sum(t => t.Value.Candidates);
}

/// <summary>A call that runs under a given <see cref="MemoryPolicy"/>.</summary>
internal interface IPolicyCall
{
    void Run(MemoryPolicy policy);
}

/// <summary>Whether calls are tuned: yes unless the environment variable <see cref="Variable"/> is "rule".</summary>
internal static class PolicyTuningSwitch
{
    /// <summary>BNVERIFY_MEMORY_POLICY: "rule" runs the rule's policy on every call; unset or "tuned", calls are tuned.</summary>
    public const string Variable = "BNVERIFY_MEMORY_POLICY";

    /// <summary>True unless <see cref="Variable"/> is "rule".</summary>
    public static readonly bool Tunes = Environment.GetEnvironmentVariable(Variable) != "rule";
}
