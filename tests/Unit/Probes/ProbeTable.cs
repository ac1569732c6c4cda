using Xunit;

namespace BatchNorm.Tests.Unit.Probes;

/// <summary>
/// Every bad-input probe, in groups: each option's bad values (numbers, fixed choices, a missing value, unknown words),
/// every path a command reads given every kind of bad file, every report path given every kind of bad target, every
/// field of an export's manifest spoiled, and selections of no case. Each must exit 2 with one line naming what was
/// wrong, before any work, leaving every file as it was.
/// </summary>
public static class ProbeTable
{
    private static readonly Lazy<IReadOnlyDictionary<string, Probe>> Table = new(() => Build().ToDictionary(p => p.Id));

    /// <summary>The probe of an id.</summary>
    public static Probe Get(string id) => Table.Value[id];

    /// <summary>The ids of a group's probes, for a theory.</summary>
    public static TheoryData<string> Ids(string group)
    {
        var data = new TheoryData<string>();
        foreach (var probe in Table.Value.Values.Where(p => p.Group == group))
            data.Add(probe.Id);
        return data;
    }

    public static IReadOnlyCollection<Probe> All => [.. Table.Value.Values];

    /// <summary>A valid compare command line (a training forward's x and y), for probes that add one bad option to it.</summary>
    private static string[] Compare => ["compare", "--x", Path.Combine(ProbeSandbox.Forward, "x.npy"), "--y", Path.Combine(ProbeSandbox.Forward, "y.npy")];

    /// <summary>Each command's options that take a value, with a valid prefix of arguments to put them after.</summary>
    private static (string[] Prefix, string[] Options)[] ValuedOptions()
    {

        return
        [
            (["verify"], ["--kernel", "--kernel-assembly", "--suite", "--activation", "--seed", "--case", "--threads", "--baseline", "--expect-width", "--contract", "--json", "--markdown", "--junit", "--html", "--shard"]),
            (["check", ProbeSandbox.PathOf("export")], ["--kernel", "--case", "--contract", "--json", "--markdown", "--junit", "--html", "--shard"]),
            (Compare, ["--x", "--layout", "--mode", "--pass", "--convention", "--eps", "--momentum", "--contract", "--json", "--junit", "--html", "--gamma", "--beta", "--running-mean",
                "--running-var", "--dy", "--saved-mean", "--saved-invstd", "--y", "--batch-mean", "--batch-var", "--batch-invstd", "--running-mean-out", "--running-var-out", "--dx",
                "--dgamma", "--dbeta"]),
            (["export", ProbeSandbox.PathOf("out/export")], ["--suite", "--activation", "--precision", "--seed", "--case", "--shard", "--contract"]),
            (["bench"], ["--layout", "--threads", "--format", "--runs", "--kernel", "--anchor", "--shape", "--pass", "--activation"]),
            (["profile"], ["--kernel", "--kernel-assembly", "--suite", "--activation", "--seed", "--threads"]),
            (["kernels"], ["--kernel-assembly"]),
        ];
    }

    private static IEnumerable<Probe> Build()
    {
        _ = ProbeSandbox.Folder;
        return Numbers().Concat(Choices()).Concat(MissingValues()).Concat(UnknownWords()).Concat(PathsRead()).Concat(PathsWritten()).Concat(Manifests()).Concat(Selections());
    }

    private static IEnumerable<Probe> Numbers()
    {

        string[] notIntegers = ["abc", "1.5", "1e3", "0x10", "1,000", "", " 1", "99999999999999999999", "+-1", "١"];
        (string[] Prefix, string Option, string[] OutOfRange)[] integers =
        [
            (["verify"], "--seed", []),
            (["verify"], "--threads", ["-1", "1025"]),
            (["profile"], "--seed", []),
            (["profile"], "--threads", ["-3", "100000"]),
            (["export", ProbeSandbox.PathOf("out/export")], "--seed", []),
            (["bench"], "--runs", ["0", "10", "100001"]),
            (["bench"], "--threads", ["0", "1025"]),
        ];
        foreach (var (prefix, option, outOfRange) in integers)
        {
            foreach (string value in notIntegers.Concat(outOfRange))
                yield return new Probe("numbers", [.. prefix, option, value], $"{option} {value}");
        }

        string[] notNumbers = ["abc", "1,5", "0x10", "", "1.5.2", "--", "1e"];
        (string Option, string[] OutOfRange)[] doubles =
        [
            ("--eps", ["0", "-1", "nan", "NaN", "inf", "Infinity", "-inf", "1e400"]),
            ("--momentum", ["-0.1", "2", "nan", "inf", "1.0000001"]),
        ];
        foreach (var (option, outOfRange) in doubles)
        {
            foreach (string value in notNumbers.Concat(outOfRange))
                yield return new Probe("numbers", [.. Compare, option, value], value == "--" ? option : $"{option} {value}");
        }
    }

    private static IEnumerable<Probe> Choices()
    {

        (string[] Prefix, string Option, string Valid)[] choices =
        [
            (["verify"], "--suite", "quick"), (["verify"], "--activation", "relu"), (["verify"], "--expect-width", "256"),
            (["profile"], "--suite", "quick"), (["profile"], "--activation", "relu"),
            (["export", ProbeSandbox.PathOf("out/export")], "--suite", "quick"), (["export", ProbeSandbox.PathOf("out/export")], "--activation", "relu"),
            (["export", ProbeSandbox.PathOf("out/export")], "--precision", "bf16"),
            (Compare, "--layout", "nchw"), (Compare, "--mode", "training"), (Compare, "--pass", "forward"), (Compare, "--convention", "pytorch"),
            (["bench"], "--layout", "nhwc"), (["bench"], "--format", "table"), (["bench"], "--shape", "64x50"), (["bench"], "--pass", "backward"),
            (["bench"], "--activation", "relu"),
        ];
        foreach (var (prefix, option, valid) in choices)
        {
            foreach (string value in new[] { "xyz", valid.ToUpperInvariant(), $"{valid},{valid}", $"{valid} " }.Where(v => v != valid))
                yield return new Probe("choices", [.. prefix, option, value], $"{option} {value}");
        }
    }

    private static IEnumerable<Probe> MissingValues() =>
        ValuedOptions().SelectMany(c => c.Options.Select(option => new Probe("missing values", [.. Without(c.Prefix, option), option], $"'{option}'")))
            .DistinctBy(p => p.Id);

    /// <summary>The arguments without <paramref name="option"/> and the value after it.</summary>
    private static string[] Without(string[] args, string option)
    {
        int at = Array.IndexOf(args, option);
        return at < 0 ? args : [.. args[..at], .. args[(at + 2)..]];
    }

    private static IEnumerable<Probe> UnknownWords()
    {
        foreach (var (prefix, _) in ValuedOptions())
        {
            yield return new Probe("unknown words", [.. prefix, "--frobnicate"], "'--frobnicate'");
            yield return new Probe("unknown words", [.. prefix, "stray-word"], "'stray-word'");
            yield return new Probe("unknown words", [.. prefix, "--Verbose"], "'--Verbose'");
        }

        yield return new Probe("unknown words", ["frobnicate"], "'frobnicate'");
        yield return new Probe("unknown words", ["Verify"], "'Verify'");
    }

    /// <summary>Every file compare, verify, profile and kernels read, given every kind of bad file.</summary>
    private static IEnumerable<Probe> PathsRead()
    {
        string f = ProbeSandbox.Forward, b = ProbeSandbox.Backward;
        // A command line that reads each .npy option, so a bad file there is the only thing wrong with it.
        var forward = new Dictionary<string, string>
        {
            ["--x"] = Path.Combine(f, "x.npy"),
            ["--gamma"] = Path.Combine(f, "gamma.npy"),
            ["--beta"] = Path.Combine(f, "beta.npy"),
            ["--running-mean"] = Path.Combine(f, "running_mean.npy"),
            ["--running-var"] = Path.Combine(f, "running_var.npy"),
            ["--y"] = Path.Combine(f, "y.npy"),
            ["--batch-mean"] = Path.Combine(f, "save_mean.npy"),
            ["--batch-var"] = Path.Combine(f, "running_var.npy"),
            ["--batch-invstd"] = Path.Combine(f, "save_invstd.npy"),
            ["--running-mean-out"] = Path.Combine(f, "running_mean_out.npy"),
            ["--running-var-out"] = Path.Combine(f, "running_var_out.npy"),
        };
        var backward = new Dictionary<string, string>
        {
            ["--x"] = Path.Combine(b, "x.npy"),
            ["--gamma"] = Path.Combine(b, "gamma.npy"),
            ["--dy"] = Path.Combine(b, "dy.npy"),
            ["--saved-mean"] = Path.Combine(b, "save_mean.npy"),
            ["--saved-invstd"] = Path.Combine(b, "save_invstd.npy"),
            ["--dx"] = Path.Combine(b, "dx.npy"),
            ["--dgamma"] = Path.Combine(b, "dgamma.npy"),
            ["--dbeta"] = Path.Combine(b, "dbeta.npy"),
        };
        foreach (var (command, files) in new[] { (new[] { "compare" }, forward), (new[] { "compare", "--pass", "backward" }, backward) })
        {
            foreach (string option in files.Keys.Where(o => command.Length == 1 || !forward.ContainsKey(o)))
            {
                foreach (string bad in ProbeSandbox.BadNpyFiles)
                {
                    string path = bad.StartsWith('/') ? bad : ProbeSandbox.PathOf(bad);
                    var args = command.Concat(files.SelectMany(kv => new[] { kv.Key, kv.Key == option ? path : kv.Value })).ToArray();
                    yield return new Probe("paths read", args, $"{option} {path}");
                }
            }
        }

        string[] badTexts = ["missing.json", "folder", "fifo", "/dev/zero", "/dev/null", "baseline-empty.json", "baseline-text.json"];
        foreach (string bad in badTexts)
        {
            string path = bad.StartsWith('/') ? bad : ProbeSandbox.PathOf(bad);
            yield return new Probe("paths read", ["verify", "--baseline", path], $"--baseline {path}");
        }

        string[] badAssemblies = ["missing.dll", "folder", "fifo", "/dev/zero", "/dev/null", "empty.npy", "not-an-assembly.dll"];
        foreach (string[] prefix in new[] { new[] { "verify" }, ["profile"], ["kernels"] })
        {
            foreach (string bad in badAssemblies)
            {
                string path = bad.StartsWith('/') ? bad : ProbeSandbox.PathOf(bad);
                yield return new Probe("paths read", [.. prefix, "--kernel-assembly", path], $"--kernel-assembly {path}");
            }
        }

        foreach (string bad in new[] { "missing-export", "folder", "fifo", "/dev/null", "regular-file" })
        {
            string path = bad.StartsWith('/') ? bad : ProbeSandbox.PathOf(bad);
            yield return new Probe("paths read", ["check", path], path);
        }
    }

    /// <summary>Every report option of verify, check and compare, and export's folder, given every kind of target that cannot take a new file.</summary>
    private static IEnumerable<Probe> PathsWritten()
    {

        (string[] Prefix, string[] Options)[] reports =
        [
            (["verify", "--case", "normal/nchw/train"], ["--json", "--markdown", "--junit", "--html"]),
            (["check", ProbeSandbox.PathOf("export")], ["--json", "--markdown", "--junit", "--html"]),
            (Compare, ["--json", "--junit", "--html"]),
        ];
        string[] badTargets = ["folder", "out/", "fifo", "/dev/null", "/proc/bnverify-report", "regular-file/report.txt", "/proc/self/report/deeper.txt"];
        foreach (var (prefix, options) in reports)
        {
            foreach (string option in options)
            {
                foreach (string bad in badTargets)
                {
                    string path = bad.StartsWith('/') ? bad : ProbeSandbox.PathOf(bad);
                    yield return new Probe("paths written", [.. prefix, option, path], $"{option} {path}");
                }

                string other = options.First(o => o != option);
                string same = ProbeSandbox.PathOf("out/same-report");
                yield return new Probe("paths written", [.. prefix, option, same, other, same], $"{same}: the same file as");
            }
        }

        foreach (string bad in new[] { "folder/../fifo", "regular-file", "fifo", "/dev/null", "/proc/bnverify-export", "regular-file/export", "export" })
        {
            string path = bad.StartsWith('/') ? bad : ProbeSandbox.PathOf(bad);
            yield return new Probe("paths written", ["export", path, "--case", "normal/nchw/train"], path);
        }
    }

    private static IEnumerable<Probe> Manifests() =>
        ProbeSandbox.Manifests.Select(m => new Probe("manifests", ["check", ProbeSandbox.PathOf(Path.Combine("manifests", m.Name))], m.Field));

    /// <summary>Selections that pick nothing, name nothing that exists, or contradict each other.</summary>
    private static IEnumerable<Probe> Selections()
    {
        string export = ProbeSandbox.PathOf("export"), baseline = ProbeSandbox.PathOf("baseline.json");
        (string[] Args, string Names)[] selections =
        [
            (["verify", "--case", "no-such-case"], "--case no-such-case"),
            (["verify", "--case", "normal/nchw/trai"], "--case normal/nchw/trai"),
            (["verify", "--case", ""], "--case "),
            (["verify", "--kernel", "no-such-kernel"], "'no-such-kernel'"),
            (["verify", "--kernel", "faulty:no-such-bug"], "'faulty:no-such-bug'"),
            (["verify", "--shard", "0/0"], "--shard 0/0"),
            (["verify", "--shard", "3/2"], "--shard 3/2"),
            (["verify", "--shard", "a/b"], "--shard a/b"),
            (["verify", "--shard", "1/0"], "--shard 1/0"),
            (["verify", "--shard", "-1/2"], "--shard -1/2"),
            (["verify", "--case", "normal/nchw/train", "--shard", "2/2"], "--shard 2/2"),
            (["verify", "--contract", "double/two-pass"], "--contract double/two-pass"),
            (["verify", "--contract", "float-blocked:0/two-pass/centred"], "--contract float-blocked:0/two-pass/centred"),
            (["verify", "--contract", "quad/two-pass/centred"], "--contract quad/two-pass/centred"),
            (["verify", "--contract", "double/three-pass/centred"], "--contract double/three-pass/centred"),
            (["verify", "--contract", "double/two-pass/sideways"], "--contract double/two-pass/sideways"),
            (["verify", "--contract", "float-lanes:x/two-pass/centred"], "--contract float-lanes:x/two-pass/centred"),
            (["verify", "--new-baseline"], "--new-baseline"),
            (["verify", "--update-baseline"], "--update-baseline: no baseline file to record in"),
            (["verify", "--update-baseline", "--case", "normal/nchw/train"], "--update-baseline: no baseline file to record in"),
            (["verify", "--kernel", "scalar-float", "--expect-width", "512"], "--expect-width 512"),
            (["verify", "--kernel", "faulty:tail-skipped", "--activation", "relu"], "--activation relu"),
            (["verify", "--update-baseline", "--baseline", baseline, "--seed", "5"], "--update-baseline"),
            (["verify", "--update-baseline", "--baseline", baseline, "--contract", "float-pairwise/two-pass/centred"], "--update-baseline"),
            (["verify", "--kernel", "optimized-bf16", "--activation", "relu", "--case", "normal"], "--case normal"),
            (["check", export, "--case", "no-such-case"], "--case no-such-case"),
            (["check", export, "--shard", "2/2"], "--shard 2/2"),
            (["check", export, "--contract", "double"], "--contract double"),
            (["export", ProbeSandbox.PathOf("out/export"), "--case", "no-such-case"], "--case no-such-case"),
            (["export", ProbeSandbox.PathOf("out/export"), "--case", "normal/nchw/train", "--shard", "2/2"], "--shard 2/2"),
            (["bench", "--anchor", "no-such-kernel"], "'no-such-kernel'"),
            (["bench", "--kernel", "no-such-kernel"], "'no-such-kernel'"),
            (["bench", "--kernel", "faulty:tail-skipped", "--activation", "relu", "--anchor", "none"], "--activation relu"),
            (["profile", "--kernel", "no-such-kernel"], "'no-such-kernel'"),
        ];
        return selections.Select(s => new Probe("selections", s.Args, s.Names));
    }
}
