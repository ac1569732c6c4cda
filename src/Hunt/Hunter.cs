using System.Diagnostics;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using FsCheck;
using FsCheck.Fluent;

namespace BatchNorm.Hunt;

/// <summary>What a hunt may spend and how it draws: stops at whichever of the budget and the case count comes first.</summary>
/// <param name="Seed">Makes the search repeatable: the same seed, kernel and options draw the same cases in the same order.</param>
/// <param name="Budget">Wall-clock time for the search (shrinking gets as long again at most).</param>
/// <param name="MaxCases">Cases to run at most; null for no limit but the budget.</param>
/// <param name="Activations">The activations cases are drawn with (each one the kernel supports).</param>
/// <param name="Contract">The contract the kernel is judged by (null: the one it declares).</param>
/// <param name="KeepGoing">Search on after a failure for the whole budget, shrinking the first case of each distinct <see cref="Finding"/>.</param>
internal sealed record HuntOptions(ulong Seed, TimeSpan Budget, int? MaxCases, IReadOnlyList<Activation> Activations, NumericalContract? Contract = null, bool KeepGoing = false);

/// <summary>One distinct finding of a hunt: its first failing case, when, and the shrunk minimum.</summary>
internal sealed record HuntFinding(CaseResult First, int CaseNumber, TimeSpan TimeToFirst, CaseResult Minimal, int ShrinkSteps, TimeSpan Shrinking, bool ShrinkCut, int Cases = 1)
{
    /// <summary>Failing cases with this finding (the first included).</summary>
    public int Cases { get; set; } = Cases;
}

/// <summary>A hunt's outcome: how much it ran, and the first failing case with its shrunk minimum (both null when none failed).</summary>
/// <param name="CasesRun">Cases judged (refused ones included).</param>
/// <param name="Searched">Time from the start to the first failure, or the whole search when none failed.</param>
/// <param name="First">The first failing case, or null.</param>
/// <param name="TimeToFirst">When it failed, or null.</param>
/// <param name="Minimal">The shrunk case with the same finding, or null.</param>
/// <param name="ShrinkSteps">Shrinks FsCheck took.</param>
/// <param name="Shrinking">Time spent shrinking.</param>
/// <param name="ShrinkCut">True when shrinking stopped at its time limit rather than at a minimum.</param>
/// <param name="Refused">Cases the kernel refused with an ArgumentException (each a valid case: a kernel should take it), </param>
/// <param name="FirstRefusal">The first refused case and the kernel's message, or null.</param>
internal sealed record HuntResult(int CasesRun, TimeSpan Searched, CaseResult? First, TimeSpan? TimeToFirst, CaseResult? Minimal, int ShrinkSteps, TimeSpan Shrinking, bool ShrinkCut,
    int Refused = 0, string? FirstRefusal = null)
{
    /// <summary>Every distinct finding in the order found (one at most without <see cref="HuntOptions.KeepGoing"/>).</summary>
    public IReadOnlyList<HuntFinding> Findings { get; init; } = [];
}

/// <summary>
/// Searches a kernel for a failing case and shrinks it: cases drawn by <see cref="CaseGenerators"/> from a seeded FsCheck
/// random stream, each judged by the verifier exactly as <c>verify</c> judges a case (bounds under the kernel's contract,
/// NaN placement, guarded buffers, determinism); the first that fails is shrunk by FsCheck with
/// <see cref="CaseGenerators.Shrink"/> while the same finding remains (<see cref="Finding"/>).
/// </summary>
internal static class Hunter
{
    /// <summary>Cases drawn per FsCheck sample call; each batch from its own split of the seed.</summary>
    private const int Batch = 32;

    /// <summary>How many judgings in a row must show a violation finding (a nondeterministic result) for a shrink to keep it.</summary>
    public const int ViolationJudgings = 20;

    /// <summary>The FsCheck size the cases are drawn at (the generators size nothing; kept fixed so a seed replays).</summary>
    private const int Size = 100;

    public static HuntResult Run(IBatchNormKernel kernel, HuntOptions options, Action<int, CaseResult>? progress = null)
    {
        var generator = CaseGenerators.Cases(options.Activations, kernel.Precision);
        var clock = Stopwatch.StartNew();
        int run = 0, refused = 0;
        string? firstRefusal = null;
        var findings = new List<HuntFinding>();
        for (ulong batch = 0; clock.Elapsed < options.Budget && (options.MaxCases is not { } max || run < max); batch++)
        {
            foreach (var @case in generator.Sample(numberOfSamples: Batch, seed: new Rnd(options.Seed, (2 * batch) + 1), size: Size))
            {
                if (clock.Elapsed >= options.Budget || (options.MaxCases is { } limit && run >= limit))
                    break;
                run++;
                CaseResult result;
                try
                {
                    result = Judge(kernel, @case, options.Contract);
                }
                catch (ArgumentException e)
                {
                    refused++;
                    firstRefusal ??= $"{@case.Name} ({@case.Describe()}): {e.Message}";
                    continue;
                }

                progress?.Invoke(run, result);
                if (result.Verdict != Verdict.Failed)
                    continue;
                var finding = Finding.Of(result);
                if (findings.FirstOrDefault(f => Finding.Of(f.First) == finding) is { } seen)
                {
                    seen.Cases++;
                    continue;
                }

                var found = clock.Elapsed;
                var (minimal, steps, cut) = Shrink(kernel, result, options);
                var shrinking = clock.Elapsed - found;
                findings.Add(new HuntFinding(result, run, found, minimal, steps, shrinking, cut));
                if (!options.KeepGoing)
                    return new HuntResult(run, found, result, found, minimal, steps, shrinking, cut, refused, firstRefusal) { Findings = findings };
            }
        }

        var first = findings.FirstOrDefault();
        return new HuntResult(run, clock.Elapsed, first?.First, first?.TimeToFirst, first?.Minimal, first?.ShrinkSteps ?? 0, first?.Shrinking ?? TimeSpan.Zero, first?.ShrinkCut ?? false,
            refused, firstRefusal)
        { Findings = findings };
    }

    /// <summary>One case, judged as verify judges it. The suite seed is unused: a hunted case carries its own draw seed.</summary>
    public static CaseResult Judge(IBatchNormKernel kernel, VerificationCase @case, NumericalContract? contract) =>
        Verifier.Run(kernel, [@case], Battery.DefaultSeed, contract: contract ?? Contracts.Of(kernel)).Single();

    /// <summary>
    /// FsCheck's shrinking from <paramref name="failed"/>'s case: a property over the single case it is, false while the
    /// case fails with the same <see cref="Finding"/> (<see cref="Finding.KeptBy"/>: one the diagnosis could not name
    /// becomes the first kind a shrink names), so FsCheck walks <see cref="CaseGenerators.Shrink"/>'s candidates
    /// to a case none of whose candidates still does. Bounded by the search budget (at least 30 s): past it every
    /// candidate is taken to pass, which ends the walk where it is, and the result says it was cut. A violation of the
    /// run's rules is kept only where <see cref="ViolationJudgings"/> judgings in a row show it.
    /// </summary>
    public static (CaseResult Minimal, int Steps, bool Cut) Shrink(IBatchNormKernel kernel, CaseResult failed, HuntOptions options)
    {
        var target = Finding.Of(failed);
        var judged = new Dictionary<VerificationCase, CaseResult> { [failed.Case] = failed };
        var deadline = Stopwatch.StartNew();
        var limit = options.Budget > TimeSpan.FromSeconds(30) ? options.Budget : TimeSpan.FromSeconds(30);
        bool cut = false;
        bool StillFails(VerificationCase c)
        {
            if (!judged.TryGetValue(c, out var result))
            {
                if (deadline.Elapsed > limit)
                {
                    cut = true;
                    return false;
                }

                try
                {
                    result = Judge(kernel, c, options.Contract);
                    // A nondeterministic result shows in some runs only, less often the smaller the case: a candidate
                    // is taken only when every one of its judgings shows it, so the minimum replays from its file.
                    for (int again = 1; target.Violation && again < ViolationJudgings && IsTarget(result); again++)
                        result = Judge(kernel, c, options.Contract);
                    judged[c] = result;
                }
                catch (ArgumentException)
                {
                    // The kernel refuses this candidate: it is not a smaller case of the same bug.
                    return false;
                }
            }

            if (!IsTarget(result))
                return false;
            target = Finding.Of(result); // sharpened when the diagnosis first names the bug's kind
            return true;
        }

        bool IsTarget(CaseResult result) => result.Verdict == Verdict.Failed && target.KeptBy(Finding.Of(result));

        var runner = new ShrinkRunner();
        var arbitrary = Arb.From(Gen.Constant(failed.Case), CaseGenerators.Shrink);
        Prop.ForAll(arbitrary, c => !StillFails(c)).Check(Config.Quick.WithMaxTest(1).WithRunner(runner));
        var minimal = runner.Counterexample ?? failed.Case;
        return (judged[minimal], runner.Shrinks, cut);
    }

    /// <summary>Takes FsCheck's shrunk counterexample and prints nothing (the hunt reports it).</summary>
    private sealed class ShrinkRunner : IRunner
    {
        public VerificationCase? Counterexample { get; private set; }

        public int Shrinks { get; private set; }

        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, Microsoft.FSharp.Collections.FSharpList<object> args, Microsoft.FSharp.Core.FSharpFunc<int, Microsoft.FSharp.Core.FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string>> every)
        {
        }

        public void OnShrink(Microsoft.FSharp.Collections.FSharpList<object> args, Microsoft.FSharp.Core.FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, TestResult result)
        {
            if (result is TestResult.Failed failed)
            {
                Counterexample = failed.Item3.Head as VerificationCase;
                Shrinks = failed.Item1.NumberOfShrinks;
            }
        }
    }
}
