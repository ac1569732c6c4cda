using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>bnverify's exit codes and reports, run as CI runs it.</summary>
public class CliTests
{
    [Fact]
    public void VerifyExitsZeroWhenThePassesAllPassAndWritesItsReports()
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-cli-").FullName;
        var run = Bnverify.Run("verify", "--case", "normal", "--json", Path.Combine(folder, "r.json"), "--junit", Path.Combine(folder, "r.xml"));
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("8 passed, 0 failed, 0 mistrusted", run.Output);
        Assert.Contains("\"verdict\": \"passed\"", File.ReadAllText(Path.Combine(folder, "r.json")));
        Assert.Contains("<testcase classname=\"bnverify.optimized\" name=\"normal/nchw/train\"", File.ReadAllText(Path.Combine(folder, "r.xml")));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void VerifyExitsOneOnAFailingKernelAndPrintsTheWorstElementsAndAReproducer()
    {
        var run = Bnverify.Run("verify", "--kernel", "faulty:one-element-64-ulp", "--case", "normal/nhwc/train");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("y: 1 of 6272 elements over their bound", run.Output);
        Assert.Contains("reproduce: dotnet run --project src/Cli -c Release -- verify --kernel faulty:one-element-64-ulp --case normal/nhwc/train --seed 20261121", run.Output);
    }

    private static readonly string Fixture = Path.Combine(Bnverify.RepositoryRoot(), "tests", "Fixtures", "PyTorch", "normal-nchw-train-forward");

    /// <summary>Every bad-input probe: its arguments, and the start of the one line it must print. Each exits 2 before any case runs.</summary>
    public static TheoryData<string[], string> Probes()
    {
        string x = Path.Combine(Fixture, "x.npy"), y = Path.Combine(Fixture, "y.npy");
        string badBaseline = Path.Combine(Path.GetTempPath(), "bnverify-bad-baseline.json");
        File.WriteAllText(badBaseline, "{\"kernels\": 5}");
        string negative = Path.Combine(Path.GetTempPath(), "bnverify-negative-baseline.json");
        File.WriteAllText(negative, "{\"quick\": {\"optimized\": {\"seed\": 1, \"cases\": {\"normal/nchw/train\": {\"y\": -1}}}}}");
        return new TheoryData<string[], string>
        {
            { ["verify", "--json", "/proc/bnverify.json"], "--json /proc/bnverify.json: cannot be written" },
            { ["verify", "--junit", "/proc/bnverify.xml"], "--junit /proc/bnverify.xml: cannot be written" },
            { ["verify", "--markdown", "/proc/bnverify.md"], "--markdown /proc/bnverify.md: cannot be written" },
            { ["verify", "--json", Path.GetTempPath().TrimEnd('/')], $"--json {Path.GetTempPath().TrimEnd('/')}: names a folder" },
            { ["compare", "--x", x, "--y", y, "--json", "/proc/bnverify.json"], "--json /proc/bnverify.json: cannot be written" },
            { ["compare", "--x", x, "--y", y, "--junit", "/proc/bnverify.xml"], "--junit /proc/bnverify.xml: cannot be written" },
            { ["compare", "--x", "/tmp", "--y", y], "--x /tmp: is a directory, not a .npy file." },
            { ["compare", "--x", x, "--y", y, "--eps", "1,5"], "--eps 1,5: not a number" },
            { ["compare", "--x", x, "--y", y, "--momentum", "0x10"], "--momentum 0x10: not a number" },
            { ["compare", "--x", x, "--y", y, "--eps", "-1"], "--eps -1: must satisfy 0 < eps, finite" },
            { ["compare", "--x", x, "--dx", y], "--dx: dx is not an output of ForwardTraining" },
            { ["compare", "--x", Path.Combine(Fixture, "missing.npy"), "--y", y], $"--x {Path.Combine(Fixture, "missing.npy")}: cannot read" },
            { ["verify", "--baseline", badBaseline], $"--baseline {badBaseline}: kernels is not a suite (quick, full)." },
            { ["verify", "--baseline", negative], $"--baseline {negative}: quick.optimized.cases.normal/nchw/train.y must be a finite number >= 0, got -1." },
            { ["verify", "--threads", "-1"], "--threads -1: must be 0 (all cores) or 1 to 1024." },
            { ["verify", "--threads", "100000"], "--threads 100000: must be 0 (all cores) or 1 to 1024." },
            { ["verify", "--seed", "1e3"], "--seed 1e3: not an integer." },
            { ["verify", "--case", "no-such-case"], "--case no-such-case: no case has that name" },
            { ["verify", "--kernel", "optimized-bf16", "--activation", "relu", "--case", "normal"], "--case normal: no case has that name or starts with it followed by '/' (this run's case names start with 'bf16/relu/')." },
            { ["export", "/tmp/bnverify-never-written", "--precision", "fp8"], "--precision fp8: must be one of fp32, bf16, fp16." },
            { ["verify", "--activation", "gelu"], "--activation gelu: must be one of none, relu." },
            { ["verify", "--kernel", "no-such-kernel"], "no kernel is named 'no-such-kernel'" },
            { ["verify", "--kernel", "scalar-float", "--expect-width", "512"], "--expect-width 512: applies to the optimized kernels" },
            { ["bench", "--runs", "0"], "--runs 0: must be from 11 to 100000." },
            { ["bench", "--threads", "0"], "--threads 0: must be from 1 to 1024." },
            { ["bench", "--anchor", "no-such-kernel"], "no kernel is named 'no-such-kernel'" },
            { ["bench", "--kernel", "faulty:tail-skipped", "--activation", "relu", "--anchor", "none"], "--activation relu: kernel faulty:tail-skipped does not fuse it" },
            { ["bench", "--activation", "gelu"], "--activation gelu: must be one of none, relu." },
            { ["verify", "--shard", "4/3"], "--shard 4/3: must be K/N with 1 <= K <= N" },
            { ["verify", "--shard", "1,3"], "--shard 1,3: must be K/N" },
            { ["verify", "--new-baseline"], "--new-baseline: only with --update-baseline" },
            { ["compare", "--x", Path.Combine(Fixture, "x.npy"), "--y", Path.Combine(Fixture, "y.npy"), "--momentum", "2"], "--momentum 2: must satisfy 0 <= momentum <= 1" },
            { ["compare", "--x", Path.Combine(Fixture, "x.npy"), "--y", Path.Combine(Fixture, "y.npy"), "--eps", "0"], "--eps 0: must satisfy 0 < eps, finite" },
            { ["verify", "--case", "normal/nchw/train", "--shard", "2/2"], "--shard 2/2: selects no case of --case normal/nchw/train" },
            { ["verify", "--json", "/tmp/bnverify-same.json", "--junit", "/tmp/bnverify-same.json"], "--json /tmp/bnverify-same.json: the same file as --junit" },
            { ["compare", "--x", Path.Combine(Fixture, "x.npy"), "--running-mean", Path.Combine(Fixture, "running_mean.npy"), "--y", Path.Combine(Fixture, "y.npy")], "--running-mean and --running-var go together" },
            { ["compare", "--x", Path.Combine(Fixture, "x.npy"), "--dy", Path.Combine(Fixture, "x.npy"), "--y", Path.Combine(Fixture, "y.npy")], "--dy: the ForwardTraining pass does not read it" },
            { ["compare", "--x", Path.Combine(Fixture, "x.npy"), "--saved-mean", Path.Combine(Fixture, "save_mean.npy"), "--saved-invstd", Path.Combine(Fixture, "save_invstd.npy"), "--y", Path.Combine(Fixture, "y.npy")],
                "--saved-mean and --saved-invstd: only the training backward reads them" },
            { ["compare", "--x", "/dev/zero", "--y", Path.Combine(Fixture, "y.npy")], "--x /dev/zero: is not a regular file" },
            { ["verify", "--kernel-assembly", "/dev/null"], "--kernel-assembly /dev/null: is not a regular file" },
            { ["verify", "--baseline", "/tmp/bnverify-no-such-baseline.json"], "--baseline /tmp/bnverify-no-such-baseline.json: no such file" },
            { ["verify", "--baseline", "/dev/null"], "--baseline /dev/null: is not a regular file" },
            { ["verify", "--json", "/dev/null"], "--json /dev/null: is not a regular file" },
            { ["verify", "--contract", "double/two-pass"], "--contract double/two-pass: 'double/two-pass' is not a contract" },
            { ["verify", "--contract", "float-blocked:0/two-pass/centred"], "--contract float-blocked:0/two-pass/centred: '0' is not a block or lane count" },
            { ["verify", "--update-baseline", "--baseline", BaselineCopy(), "--seed", "5"], "--update-baseline: the baseline records optimized's suite quick at seed 20261121, not 5" },
            { ["verify", "--update-baseline", "--baseline", BaselineCopy(), "--contract", "float-pairwise/two-pass/centred"],
                "--update-baseline: the baseline records optimized's suite quick under contract double/two-pass/centred" },
            { ["verify", "--suite", "medium"], "--suite medium: must be one of quick, full." },
            { ["frobnicate"], "Unrecognized command or argument 'frobnicate'." },
        };
    }

    /// <summary>A copy of the committed baseline for probes that would otherwise write to it if they ran.</summary>
    private static string BaselineCopy()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"bnverify-baseline-probe-{Environment.ProcessId}.json");
        if (!File.Exists(copy))
            File.Copy(Path.Combine(Bnverify.RepositoryRoot(), "accuracy-baseline.json"), copy);
        return copy;
    }

    [Theory]
    [MemberData(nameof(Probes))]
    public void BadInputExitsTwoWithOneLineNamingIt(string[] args, string firstLine)
    {
        var run = Bnverify.Run(args);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Output}{run.Error}");
        Assert.DoesNotContain("   at ", run.Error);   // no stack trace
        Assert.StartsWith(firstLine, run.Error.Split('\n')[0], StringComparison.Ordinal);
        Assert.DoesNotContain("passed,", run.Output);  // no case ran
    }

    [Fact]
    public void AReportPathThatCannotBeWrittenLeavesNoOtherReportBehind()
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-cli-").FullName;
        string json = Path.Combine(folder, "nested", "r.json");
        var run = Bnverify.Run("verify", "--json", json, "--junit", "/proc/bnverify.xml");
        Assert.Equal(2, run.ExitCode);
        Assert.False(File.Exists(json));
        Assert.Empty(Directory.GetFiles(folder, "*", SearchOption.AllDirectories));
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>A run held to no recorded errors says so on the console and in its JSON and JUnit reports; a run held to some says which.</summary>
    [Fact]
    public void EveryReportSaysWhatTheRatchetHeldTheRunTo()
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-cli-").FullName;
        string json = Path.Combine(folder, "r.json"), junit = Path.Combine(folder, "r.xml");
        var none = Bnverify.RunIn(folder, new Dictionary<string, string>(), null, "verify", "--case", "normal/nchw/train", "--json", json, "--junit", junit);
        Assert.True(none.ExitCode == 0, none.Output + none.Error);
        Assert.Contains("Ratchet: none: no recorded errors for optimized", none.Output);
        Assert.Contains("\"ratchet\": \"none: no recorded errors", File.ReadAllText(json));
        Assert.Contains("<property name=\"ratchet\" value=\"none: no recorded errors", File.ReadAllText(junit));

        var held = Bnverify.Run("verify", "--case", "normal/nchw/train", "--json", json);
        Assert.True(held.ExitCode == 0, held.Output + held.Error);
        Assert.Contains("Ratchet: 1 of 1 cases against optimized's recorded errors", held.Output);
        Assert.Contains("\"ratchet\": \"1 of 1 cases against optimized", File.ReadAllText(json));
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>Report folders are made only when the reports are written: a run refused for a later argument leaves none.</summary>
    [Theory]
    [InlineData("--case", "no-such-case")]
    [InlineData("--kernel", "no-such-kernel")]
    [InlineData("--contract", "double")]
    public void ARunRefusedAfterTheReportOptionsCreatesNoFolder(string option, string value)
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-cli-").FullName;
        var run = Bnverify.Run("verify", "--json", Path.Combine(folder, "a", "r.json"), "--junit", Path.Combine(folder, "b", "c", "r.xml"), option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(folder));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void EveryReportPathGetsItsDirectoryCreated()
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-cli-").FullName;
        string[] paths = [Path.Combine(folder, "a", "r.json"), Path.Combine(folder, "b", "r.xml"), Path.Combine(folder, "c", "r.md")];
        var run = Bnverify.Run("verify", "--case", "normal/nchw/train", "--json", paths[0], "--junit", paths[1], "--markdown", paths[2]);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.All(paths, p => Assert.True(File.Exists(p), p));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void TheCommittedBaselineIsReadWhereAvx512IsOff()
    {
        // The baseline names optimized-512; a machine without AVX-512 must still read it.
        var run = Bnverify.RunWith(new Dictionary<string, string> { ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX512"] = "0" },
            "verify", "--case", "normal/nchw/train", "--expect-width", "256");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
    }

    [Fact]
    public void VerifyPrintsTheThreadsItUses()
    {
        var run = Bnverify.Run("verify", "--case", "normal/nchw/train", "--threads", "3");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains(", 3 thread(s).", run.Output);
    }

    /// <summary>Redirected, the table is plain text: every column, no trailing spaces, no line of spaces; the summary names the worst case.</summary>
    [Fact]
    public void RedirectedOutputIsPlainTextWithNoPadding()
    {
        var run = Bnverify.Run("verify", "--kernel", "optimized-bf16", "--case", "bf16/normal/nchw");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        string[] lines = run.Output.Split('\n');
        Assert.All(lines, l => Assert.Equal(l.TrimEnd(), l));
        Assert.DoesNotContain(lines[..^1], l => l.Length == 0);
        Assert.Contains(lines, l => l.StartsWith("case ", StringComparison.Ordinal) && l.Contains("max rel", StringComparison.Ordinal) && l.Contains("error/bound", StringComparison.Ordinal) && l.EndsWith("verdict", StringComparison.Ordinal));
        // A ratio below 1 is never printed as 1: the bf16 cases come within 1e-3 of their bound.
        Assert.DoesNotContain(lines, l => l.Contains(" 1 ", StringComparison.Ordinal) && l.EndsWith("passed", StringComparison.Ordinal));
        Assert.Contains("worst error/bound 0.99", run.Output);
        Assert.Contains("optimized-bf16, suite quick, bf16, seed 20261121:", run.Output);
    }

    /// <summary>On an 80-column terminal (a pseudo-terminal from script(1)) the table fits: columns dropped, no number split, and the legend under it.</summary>
    [Fact]
    public void OnAnEightyColumnTerminalTheTableFits()
    {
        // The screen a person sees once the run ends (the progress bar drawn and cleared): Reports/TerminalScreen.
        string output = Reports.TerminalScreen.Run(80, new Dictionary<string, string>(), "verify", "--kernel", "optimized-scalar", "--case", "large-mean-1e4");
        string[] table = [.. output.Split('\n').SkipWhile(l => !l.StartsWith("case ", StringComparison.Ordinal)).TakeWhile(l => !l.StartsWith("error/bound:", StringComparison.Ordinal))];
        Assert.True(table.Length >= 6, output);
        Assert.All(table, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.Contains("error/bound", table[0]);
        Assert.Contains("error/bound: the largest |error| / bound", output);
    }

    /// <summary>bench explains its columns under the table: the roofline above 1 on cache-resident data, and how to read a ratio's spread.</summary>
    [Fact]
    public void BenchExplainsItsColumnsUnderTheTable()
    {
        var run = Bnverify.Run("bench", "--shape", "64x50", "--pass", "fwd_infer", "--layout", "nchw", "--kernel", "optimized", "--anchor", "none");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        string text = string.Join(' ', run.Output.Split('\n').Select(l => l.Trim()));
        Assert.Contains("roofline: that rate over a plain parallel copy of the same arrays", text);
        Assert.Contains("a spread that straddles 1 is a difference this sitting cannot call", text);
    }

    [Fact]
    public void KernelsListsEveryName()
    {
        var run = Bnverify.Run("kernels");
        Assert.Equal(0, run.ExitCode);
        string[] lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] names = [.. lines.Select(l => l.Split(' ')[0])];
        Assert.All(lines, l => Assert.Matches(@"^\S+ +\S", l));   // every name has its description
        Assert.Contains(lines, l => l.StartsWith("faulty:nan-in-dx ", StringComparison.Ordinal) && l.Contains("planted bug: the first dx element is NaN", StringComparison.Ordinal));
        Assert.Contains("optimized", names);
        Assert.Contains("optimized-scalar", names);
        Assert.Contains("scalar-float", names);
        Assert.Contains("faulty:one-pass-variance", names);
    }
}
