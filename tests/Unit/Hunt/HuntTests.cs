using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Reports;
using BatchNorm.Hunt;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BatchNorm.Tests.Unit.Hunt;

/// <summary>hunt: finds and shrinks every planted bug, is quiet on correct kernels, repeats by seed, and its case file replays.</summary>
public class HuntTests
{
    private static HuntOptions Options(IBatchNormKernel kernel, int? cases = null, ulong seed = 1) =>
        new(seed, TimeSpan.FromSeconds(60), cases, [.. Enum.GetValues<Activation>().Where(kernel.Supports)]);

    public static TheoryData<string> ZooKernels() => [.. FaultyKernels.EveryName.Select(n => FaultyKernels.Prefix + n)];

    /// <summary>Each planted bug of the zoo: found within the 60 s budget and shrunk to a case no larger that fails with the same finding.</summary>
    [Theory]
    [MemberData(nameof(ZooKernels))]
    public void EveryPlantedBugIsFoundAndShrunk(string name)
    {
        var kernel = KernelCatalog.Create(name);
        var result = Hunter.Run(kernel, Options(kernel));
        Assert.True(result.First is not null, $"{name}: {result.CasesRun} cases in {result.Searched.TotalSeconds:0.0} s found nothing");
        var minimal = result.Minimal!;
        Assert.Equal(Verdict.Failed, minimal.Verdict);
        Assert.True(Finding.Of(result.First!).KeptBy(Finding.Of(minimal)), $"{Finding.Of(result.First!)} shrunk to {Finding.Of(minimal)}");
        Assert.True(minimal.Case.Shape.ElementCount <= result.First!.Case.Shape.ElementCount);
        // The minimum is a fixed point: judged afresh it fails the same way, and none of its shrinks still does. A
        // nondeterministic finding shows in most judgings of its minimum, not all, and may in some of its shrinks'.
        bool violation = Finding.Of(minimal).Violation;
        Assert.Contains(Enumerable.Range(0, violation ? 5 : 1), _ => Finding.Of(Hunter.Judge(kernel, minimal.Case, null)) == Finding.Of(minimal));
        if (!result.ShrinkCut && !violation)
        {
            Assert.DoesNotContain(CaseGenerators.Shrink(minimal.Case), c =>
                Hunter.Judge(kernel, c, null) is { Verdict: Verdict.Failed } r && Finding.Of(r) == Finding.Of(minimal));
        }
    }

    /// <summary>
    /// A known minimum: the last channel reading channel C-2's coefficients needs two channels, one sample, channels-last,
    /// plain data and one or two positions (one where the diagnosis names it at M = 1, two where it does not), whatever
    /// case first finds it.
    /// </summary>
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void TheShrinkerReachesTheKnownMinimumOfAPlantedBug(ulong seed)
    {
        var kernel = KernelCatalog.Create("faulty:channel-tail-off-by-one");
        var minimal = Hunter.Run(kernel, Options(kernel, seed: seed)).Minimal!;
        Assert.Equal((1, 2, Layout.ChannelsLast), (minimal.Case.Shape.N, minimal.Case.Shape.C, minimal.Case.Shape.Layout));
        Assert.InRange(minimal.Case.Shape.S, 1, 2);
        Assert.Equal((ValueFamily.Normal, 0.0, 1.0, ChannelFeature.None), (minimal.Case.Values, minimal.Case.Offset, minimal.Case.Spread, minimal.Case.Feature));

    }

    /// <summary>Correct kernels of several algorithms: a few hundred generated cases find nothing (no false alarm on a legitimate algorithm).</summary>
    [Theory]
    [InlineData("optimized", 300)]
    [InlineData("scalar-float", 150)]
    [InlineData("algorithm:float-lanes:16/rounded-centre/folded-fma", 150)]
    [InlineData("algorithm:float-blocked:64/welford/folded-fma", 150)]
    [InlineData("optimized-bf16", 150)]
    public void ACorrectKernelYieldsNothing(string name, int cases)
    {
        var kernel = KernelCatalog.Create(name);
        var result = Hunter.Run(kernel, Options(kernel, cases));
        Assert.True(result.First is null, result.Minimal is { } m ? TextReport.Failure(m) : "");
        Assert.Equal(cases, result.CasesRun);
        Assert.Equal(0, result.Refused);
    }

    [Fact]
    public void TheSameSeedDrawsTheSameCasesAndAnotherSeedOthers()
    {
        var generator = CaseGenerators.Cases([Activation.None, Activation.Relu], DataPrecision.Float32);
        Assert.Equal(generator.Sample(numberOfSamples: 50, seed: new Rnd(5UL, 1UL), size: 100), generator.Sample(numberOfSamples: 50, seed: new Rnd(5UL, 1UL), size: 100));
        Assert.NotEqual(generator.Sample(numberOfSamples: 50, seed: new Rnd(5UL, 1UL), size: 100), generator.Sample(numberOfSamples: 50, seed: new Rnd(6UL, 1UL), size: 100));
        var kernel = KernelCatalog.Create("faulty:one-pass-variance");
        Assert.Equal(Hunter.Run(kernel, Options(kernel, seed: 9)).Minimal!.Case, Hunter.Run(kernel, Options(kernel, seed: 9)).Minimal!.Case);
    }

    /// <summary>The generators reach what the issue lists: every pass, layout, convention, family, feature, N = 1, M = 1, long channels, tails.</summary>
    [Fact]
    public void TheGeneratorsCoverTheBatterysGround()
    {
        var cases = CaseGenerators.Cases([Activation.None, Activation.Relu], DataPrecision.Float32).Sample(numberOfSamples: 3000, seed: new Rnd(11UL, 1UL), size: 100);
        Assert.Equal(Enum.GetValues<BatchNormPass>().Length, cases.Select(c => c.Pass).Distinct().Count());
        Assert.Equal(Enum.GetValues<RunningStatsConvention>().Length, cases.Select(c => c.Options.Convention).Distinct().Count());
        Assert.Equal(Enum.GetValues<ValueFamily>().Length, cases.Select(c => c.Values).Distinct().Count());
        Assert.Equal(Enum.GetValues<ChannelFeature>().Length, cases.Select(c => c.Feature).Distinct().Count());
        Assert.Equal(Enum.GetValues<GammaKind>().Length, cases.Select(c => c.Gamma).Distinct().Count());
        Assert.Equal(2, cases.Select(c => c.Options.Activation).Distinct().Count());
        Assert.Contains(cases, c => c.Shape.N == 1);
        Assert.Contains(cases, c => c.Shape.M == 1);
        Assert.Contains(cases, c => c.Shape.M > 32_000);
        foreach (int width in new[] { 4, 8, 16 })
        {
            Assert.Contains(cases, c => c.Shape.C == width + 1 && c.Shape.Layout == Layout.ChannelsLast);
            Assert.Contains(cases, c => c.Shape.S == width + 1 && c.Shape.Layout == Layout.ChannelsFirst);
        }

        Assert.All(cases, c => Assert.Null(CaseRules.Invalid(c)));
        Assert.All(cases, c => Assert.True(c.Shape.ElementCount <= CaseGenerators.MaxElements));
    }

    /// <summary>
    /// Exact pairs stay exact: a hunt of the optimized kernel stopped with an internal error on an exact-pairs case of
    /// M = 2^15, whose variance (Σ j²) 2^-16 / M needs more than a float's 24 bits. The generators now draw M up to
    /// 2^12 only, the rules refuse more, and the largest drawn is judged without error.
    /// </summary>
    [Fact]
    public void ExactPairsAreDrawnOnlyWhereTheirStatisticsAreExactFloats()
    {
        var pairs = CaseGenerators.Cases([Activation.None], DataPrecision.Float32).Sample(numberOfSamples: 4000, seed: new FsCheck.Rnd(3, 5), size: 100)
            .Where(c => c.Values == ValueFamily.ExactPairs).ToList();
        Assert.True(pairs.Count > 100, $"{pairs.Count} exact-pairs cases drawn");
        Assert.All(pairs, c => Assert.InRange(c.Shape.M, 2, CaseRules.MaxExactPairsM));
        Assert.Contains(pairs, c => c.Shape.M == CaseRules.MaxExactPairsM);
        var largest = pairs.OrderByDescending(c => c.Shape.M).ThenBy(c => c.Shape.C).First() with { Pass = BatchNormPass.ForwardTraining };
        Assert.Equal(Verdict.Passed, Hunter.Judge(KernelCatalog.Create("optimized"), largest, null).Verdict);
        var tooLong = largest with { Shape = new TensorShape(2 * largest.Shape.N, largest.Shape.C, largest.Shape.S, largest.Shape.Layout) };
        Assert.Contains("exact pairs need M = N*S a power of two from 2 to 4096", CaseRules.Invalid(tooLong));
    }

    /// <summary>The CLI: a found case is written, replays with verify --case-file (failing on the bug, passing on a correct kernel) and with --corpus.</summary>
    [Fact]
    public void AFoundCaseReplaysFromItsFileAndFromACorpus()
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-hunt-").FullName;
        string corpus = Path.Combine(folder, "corpus");
        var hunt = Bnverify.Run("hunt", "--kernel", "faulty:tail-skipped", "--budget", "60s", "--corpus", corpus);
        Assert.True(hunt.ExitCode == 1, hunt.Output + hunt.Error);
        string file = Assert.Single(Directory.GetFiles(corpus, "*.json"));
        Assert.Contains($"case file: {file}", hunt.Output);
        Assert.Contains($"verify --kernel faulty:tail-skipped --case-file {file}", hunt.Output);
        Assert.Contains("diagnosis (y): tail:", hunt.Output);

        var replay = Bnverify.Run("verify", "--kernel", "faulty:tail-skipped", "--case-file", file);
        Assert.True(replay.ExitCode == 1, replay.Output + replay.Error);
        Assert.Contains("0 passed, 1 failed", replay.Output);
        var fixedKernel = Bnverify.Run("verify", "--case-file", file);
        Assert.True(fixedKernel.ExitCode == 0, fixedKernel.Output + fixedKernel.Error);

        // A bf16 case in the corpus belongs to the bf16 kernel's runs: the float32 run leaves it.
        var other = CaseFile.Parse(File.ReadAllText(file), file) with { Precision = DataPrecision.BFloat16 };
        File.WriteAllText(Path.Combine(corpus, "other.json"), CaseFile.Render(CaseGenerators.Settle(other)));
        var withCorpus = Bnverify.Run("verify", "--kernel", "faulty:tail-skipped", "--case", "normal/nchw/train", "--corpus", corpus);
        Assert.True(withCorpus.ExitCode == 1, withCorpus.Output + withCorpus.Error);
        Assert.Contains($"--corpus {corpus}: 1 case(s) replayed, 1 of other activations or precisions left for their runs.", withCorpus.Output);
        Assert.Contains("0 passed, 2 failed", withCorpus.Output); // the suite case and the corpus case, both with tails
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>
    /// --keep-going searches on after a failure for the whole count: each distinct finding (output, bug kind, violation) is
    /// shrunk once, the first the same as a hunt that stops finds, and every later failing case is counted under its finding.
    /// </summary>
    [Fact]
    public void KeepingOnFindsEachDistinctBugOnce()
    {
        var kernel = KernelCatalog.Create("faulty:momentum-reversed");
        var once = Hunter.Run(kernel, Options(kernel, 400));
        Assert.Single(once.Findings);
        var all = Hunter.Run(kernel, Options(kernel, 400) with { KeepGoing = true });
        Assert.Equal(400, all.CasesRun);
        Assert.Equal(once.Findings[0].Minimal.Case, all.Findings[0].Minimal.Case);
        // Every failing case is counted under one finding, and no finding twice.
        Assert.Equal(all.Findings.Count, all.Findings.Select(f => Finding.Of(f.First)).Distinct().Count());
        Assert.Contains(all.Findings, f => Finding.Of(f.Minimal).Output == BatchNorm.Harness.Cases.BatchNormOutput.RunningMean);
        Assert.True(all.Findings.Sum(f => f.Cases) > all.Findings.Count, "momentum-reversed fails many cases, counted under their findings");
    }
}
