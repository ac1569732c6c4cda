using System.Globalization;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Ratchet;
using BatchNorm.Harness.Verification;
using Xunit;
using static BatchNorm.Tests.Unit.KernelCases;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The ratchet's bookkeeping in process, each rule with its exact words: what a run is held to, when a recording
/// conflicts with the entry, what a partial recording keeps, where an error starts to count as a regression, and
/// what the file looks like. The CLI tests see some of this through a subprocess only.
/// </summary>
public class RatchetRecordTests
{
    private static readonly int Seed = Battery.DefaultSeed;

    private static readonly CaseResult Train = Run("normal/nchw/train");

    private static readonly CaseResult Infer = Run("normal/nchw/infer");

    private static CaseResult Run(string name) =>
        CaseRunner.Run(OptimizedAt("optimized"), Verifier.Select(Suite.Quick, name).Single(), Seed) with { Kernel = "k" };

    private static AccuracyBaseline Recorded(params CaseResult[] results)
    {
        var baseline = AccuracyBaseline.Empty();
        baseline.Record(Suite.Quick, "k", Seed, Train.Contract, results);
        return baseline;
    }

    [Fact]
    public void ARecordingAtAnotherSeedOrContractConflictsByNameUnlessItReplacesTheEntry()
    {
        var baseline = Recorded(Train);
        var other = NumericalContract.Parse("float-pairwise/two-pass/centred");
        Assert.Null(baseline.Conflict(Suite.Quick, "k", Seed, Train.Contract, replace: false));
        Assert.Null(baseline.Conflict(Suite.Quick, "unrecorded", 1, other, replace: false));
        Assert.Null(baseline.Conflict(Suite.Full, "k", 1, other, replace: false));
        Assert.Null(baseline.Conflict(Suite.Quick, "k", 1, other, replace: true));

        string seed = string.Create(CultureInfo.InvariantCulture, $"the baseline records k's suite quick at seed {Seed}, not 1: re-baseline at seed {Seed}, or replace the whole entry with --new-baseline");
        Assert.Equal(seed, baseline.Conflict(Suite.Quick, "k", 1, Train.Contract, replace: false));
        Assert.Equal(
            $"the baseline records k's suite quick under contract {Train.Contract}, not {other}: replace the whole entry with --new-baseline",
            baseline.Conflict(Suite.Quick, "k", Seed, other, replace: false));
        Assert.Equal(seed, Assert.Throws<InvalidOperationException>(() => baseline.Record(Suite.Quick, "k", 1, Train.Contract, [Train])).Message);

        // Replacing the entry is allowed, and the ratchet then applies at the new seed alone.
        baseline.Record(Suite.Quick, "k", 1, Train.Contract, [Train with { SuiteSeed = 1 }], replace: true);
        Assert.Null(baseline.Held(Suite.Quick, "k", Seed, [Train]));
        Assert.NotNull(baseline.Held(Suite.Quick, "k", 1, [Train]));
    }

    [Fact]
    public void HeldCountsTheRunsCasesThatHaveRecordedErrors()
    {
        var baseline = Recorded(Train);
        string Held(int held, int of) =>
            string.Create(CultureInfo.InvariantCulture, $"{held} of {of} cases against k's recorded errors (suite quick, seed {Seed}, contract {Train.Contract})");
        Assert.Equal(Held(1, 1), baseline.Held(Suite.Quick, "k", Seed, [Train]));
        Assert.Equal(Held(1, 2), baseline.Held(Suite.Quick, "k", Seed, [Train, Infer]));
        Assert.Null(baseline.Held(Suite.Quick, "k", Seed, [Infer]));
        Assert.Null(baseline.Held(Suite.Quick, "k", Seed + 1, [Train]));
        Assert.Null(baseline.Held(Suite.Full, "k", Seed, [Train]));
        Assert.Null(baseline.Held(Suite.Quick, "unrecorded", Seed, [Train]));
    }

    [Fact]
    public void APartialRecordingKeepsEveryOtherCaseAndANewBaselineDropsThem()
    {
        var baseline = Recorded(Train);
        baseline.Record(Suite.Quick, "k", Seed, Train.Contract, [Infer]);
        Assert.StartsWith("2 of 2 cases", baseline.Held(Suite.Quick, "k", Seed, [Train, Infer]));
        baseline.Record(Suite.Quick, "k", Seed, Train.Contract, [Infer], replace: true);
        Assert.StartsWith("1 of 2 cases", baseline.Held(Suite.Quick, "k", Seed, [Train, Infer]));
        Assert.Null(baseline.Held(Suite.Quick, "k", Seed, [Train]));
    }

    /// <summary>An output regresses when its error is over 4x its recorded error plus one rounding (2^-24) of its largest expected value; at that figure exactly it does not.</summary>
    [Fact]
    public void AnErrorRegressesJustPastFourTimesItsRecordedErrorPlusOneRounding()
    {
        var baseline = Recorded(Train);
        var y = Train.Outputs.Single(o => o.Output == BatchNormOutput.Y);
        double allowed = (AccuracyBaseline.Factor * y.MaxAbsoluteError) + (ToleranceModel.U * y.MaxExpectedMagnitude);
        Assert.True(y.MaxAbsoluteError > 0 && y.MaxExpectedMagnitude > 1, "the case's y has an error to scale and a magnitude over 1");

        CaseResult WithYError(double error) => Train with { Outputs = [.. Train.Outputs.Select(o => o.Output == BatchNormOutput.Y ? o with { MaxAbsoluteError = error } : o)] };
        Assert.Empty(baseline.Regressions(Suite.Quick, WithYError(allowed)));
        double over = Math.BitIncrement(allowed);
        string regression = Assert.Single(baseline.Regressions(Suite.Quick, WithYError(over)));
        string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        Assert.Equal(
            $"y: max abs error {R(over)} exceeds 4x the baseline {R(y.MaxAbsoluteError)} (allowed {R(allowed)}); if intended, re-baseline with: {Invocation.Bnverify} verify --kernel k --suite quick --update-baseline",
            regression);

        // Under another entry's key, or for an unrecorded kernel, nothing applies.
        Assert.Empty(baseline.Regressions(Suite.Quick, WithYError(over), key: "unrecorded"));
        Assert.Single(baseline.Regressions(Suite.Quick, WithYError(over) with { Kernel = "renamed" }, key: "k"));
    }

    [Fact]
    public void ARunJudgedByAnotherContractIsNamedWithTheCommandThatReBaselinesIt()
    {
        var loosened = Train with { Contract = NumericalContract.Parse("float-pairwise/two-pass/centred") };
        Assert.Equal(
            $"contract: judged by float-pairwise/two-pass/centred, but the baseline recorded {Train.Contract}: a kernel that no longer meets (or declares) its recorded contract " +
            $"has lost accuracy by name; if intended, re-baseline with: {Invocation.Bnverify} verify --kernel k --suite quick --update-baseline",
            Assert.Single(Recorded(Train).Regressions(Suite.Quick, loosened)));
    }

    /// <summary>An entry written by hand (or by an older bnverify) may record some outputs of a case and no contract: the rest are not judged, and the contract is said to be missing.</summary>
    [Fact]
    public void AnEntryWithSomeOutputsAndNoContractJudgesThoseAndSaysSo()
    {
        string text = "{\"quick\": {\"optimized\": {\"seed\": " + Seed.ToString(CultureInfo.InvariantCulture) + ", \"cases\": {\"normal/nchw/train\": {\"y\": 0}}}}}";
        var baseline = AccuracyBaseline.Parse(text, "b.json");
        Assert.Equal(
            string.Create(CultureInfo.InvariantCulture, $"1 of 1 cases against optimized's recorded errors (suite quick, seed {Seed}, contract not recorded)"),
            baseline.Held(Suite.Quick, "optimized", Seed, [Train]));
        // y recorded as 0: its error now is a regression; the outputs not recorded are passed over.
        string regression = Assert.Single(baseline.Regressions(Suite.Quick, Train, key: "optimized"));
        Assert.StartsWith("y: max abs error ", regression);
    }

    [Fact]
    public void TheSavedFileIsIndentedEndsInANewlineAndReadsBackTheSame()
    {
        // Under a kernel name the reader knows: it refuses names it does not.
        var baseline = AccuracyBaseline.Empty();
        baseline.Record(Suite.Quick, "optimized", Seed, Train.Contract, [Train, Infer]);
        string path = Path.Combine(Path.GetTempPath(), $"bnverify-ratchet-{Environment.ProcessId}.json");
        try
        {
            baseline.Save(path);
            string text = File.ReadAllText(path);
            Assert.StartsWith("{\n  \"quick\": {\n    \"optimized\": {\n      \"seed\": ", text.ReplaceLineEndings("\n"));
            Assert.EndsWith("}\n", text);
            var read = AccuracyBaseline.Load(path);
            Assert.StartsWith("2 of 2 cases", read.Held(Suite.Quick, "optimized", Seed, [Train, Infer]));
            Assert.Equal(baseline.Held(Suite.Quick, "optimized", Seed, [Train, Infer]), read.Held(Suite.Quick, "optimized", Seed, [Train, Infer]));
            Assert.Empty(read.Regressions(Suite.Quick, Train, key: "optimized"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
