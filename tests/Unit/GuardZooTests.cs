using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Ratchet;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// Every guard of the verifier that is not a bound, proven by the planted bug only it catches
/// (<see cref="FaultyGuardKernels"/>, and bf16-dx-not-rounded): over the quick suite the kernel fails some case, and
/// in every case it fails, that guard is the only one that fired. A guard that stopped looking at dx, before an
/// output, past the first output, at per-channel outputs or at dx's format would let its kernel pass here.
/// </summary>
public class GuardZooTests
{
    private static readonly AccuracyBaseline Committed = AccuracyBaseline.Load(AccuracyBaseline.Locate()!);

    /// <summary>The guards, as this test tells them apart in a result.</summary>
    public enum Guard
    {
        Bound,
        NonFinitePlacement,
        CanaryBefore,
        CanaryAfter,
        Determinism,
        Format,
        Ratchet,
        Other,
    }

    /// <summary>Each guard fault, the guard that must catch it, its message, and a case it fails.</summary>
    public static TheoryData<string, Guard, string, string> Faults => new()
    {
        { "nan-in-dx", Guard.NonFinitePlacement, "NaN/infinity mismatches", "normal/nchw/backward-train" },
        { "write-before-start", Guard.CanaryBefore, "batchInvStd: wrote 1 element(s) before the start of the span", "normal/nchw/train" },
        { "nondeterministic-dbeta", Guard.Determinism, "dbeta: two runs on the same input differ in bits", "normal/nchw/backward-train" },
        { "dgamma-float-sum", Guard.Ratchet, "ratchet: dgamma: max abs error", "normal/nchw/backward-train" },
        { "bf16-dx-not-rounded", Guard.Format, "values are not bf16 values", "bf16/normal/nchw/backward-train" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public void OnlyItsGuardCatchesEachGuardFault(string name, Guard guard, string message, string @case)
    {
        var kernel = FaultyKernels.Create(name);
        var results = Verifier.Run(kernel, Battery.For(Suite.Quick, Activation.None, kernel.Precision), Battery.DefaultSeed)
            .Select(r => r with { Regressions = Committed.Regressions(Suite.Quick, r, kernel.RatchetedAs) })
            .ToList();
        var failing = results.Where(r => r.Verdict != Verdict.Passed).ToList();
        Assert.NotEmpty(failing);
        Assert.All(failing, r => Assert.True(Fired(r).SetEquals([guard]), $"{r.Case.Name}: {string.Join(", ", Fired(r))}\n{TextReport.Failure(r)}"));
        Assert.Contains(message, TextReport.Failure(failing[0]), StringComparison.Ordinal);
        Assert.Contains(failing, r => r.Case.Name == @case);
    }

    /// <summary>Each guard fault with its message and a case it fails, for the CLI test.</summary>
    public static TheoryData<string, string, string> FaultMessages()
    {
        var data = new TheoryData<string, string, string>();
        foreach (object[] row in Faults)
            data.Add((string)row[0], (string)row[2], (string)row[3]);
        return data;
    }

    /// <summary>Through the CLI as a user runs it: exit 1 with the guard's own message, the ratchet fault held to the optimized kernel's records.</summary>
    [Theory]
    [MemberData(nameof(FaultMessages))]
    public void VerifyFailsEachGuardFaultWithTheGuardsMessage(string name, string message, string @case)
    {
        var run = Bnverify.Run("verify", "--kernel", "faulty:" + name, "--case", @case);
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}\n{run.Output}{run.Error}");
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
    }

    /// <summary>Which guards a result's failure comes from.</summary>
    private static HashSet<Guard> Fired(CaseResult result)
    {
        var fired = new HashSet<Guard>();
        foreach (var output in result.Outputs.Where(o => !o.Passed))
            fired.Add(output.NonFiniteMismatches > 0 && output.OverBound == output.NonFiniteMismatches && output.SystematicFailures.Count == 0 ? Guard.NonFinitePlacement : Guard.Bound);
        foreach (string violation in result.Violations)
        {
            fired.Add(violation.Contains("before the start", StringComparison.Ordinal) ? Guard.CanaryBefore
                : violation.Contains("past the end", StringComparison.Ordinal) ? Guard.CanaryAfter
                : violation.Contains("(nondeterministic)", StringComparison.Ordinal) ? Guard.Determinism
                : violation.Contains("values are not", StringComparison.Ordinal) ? Guard.Format
                : Guard.Other);
        }

        if (result.Regressions.Count > 0)
            fired.Add(Guard.Ratchet);
        return fired;
    }
}
