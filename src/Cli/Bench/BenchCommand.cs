using System.CommandLine;
using BatchNorm.Cli.Bench;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Optimized;
using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary><c>bnverify bench</c>: the timing table users read; see README for how to compare with the anchors.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var layout = new Option<string>("--layout") { Description = "nchw, nhwc or both.", DefaultValueFactory = _ => "both" };
        layout.AcceptOnlyFromAmong("nchw", "nhwc", "both");
        var threads = StrictNumbers.Int("--threads", $"Threads for the optimized kernel and the bandwidth probe, 1 to {VerifyCommand.MaxThreads}.", 1, VerifyCommand.MaxThreads, Environment.ProcessorCount);
        var format = new Option<string>("--format") { Description = "table, or jsonl (one JSON object a line).", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "jsonl");
        var runs = StrictNumbers.Int("--runs", "Timed runs per cell after warm-up (11 to 100000); the median is reported.", 11, 100_000, 11);
        var kernels = new Option<string[]>("--kernel")
        {
            Description = "Kernels to time (repeatable).",
            DefaultValueFactory = _ => ["optimized", "scalar-float"],
            AllowMultipleArgumentsPerToken = true,
        };
        var anchor = new Option<string[]>("--anchor")
        {
            Description = "Anchors timed round by round against each kernel, for the ratio columns (repeatable): onednn (in process, on the same buffers), " +
                          "pytorch (in a helper process, same shape and threads), or none. Default: each of them that is installed.",
            AllowMultipleArgumentsPerToken = true,
        };
        var shapes = new Option<string[]>("--shape")
        {
            Description = $"Only these shapes (repeatable): {string.Join(", ", BenchShape.Defaults.Select(s => s.Name))}. Default: all.",
            AllowMultipleArgumentsPerToken = true,
        };
        shapes.AcceptOnlyFromAmong([.. BenchShape.Defaults.Select(s => s.Name)]);
        var activation = ActivationOption.Create("What the timed kernels and anchors fuse after the affine step: none, or relu (oneDNN's fused primitive; PyTorch's F.relu after its batch norm, unfused as PyTorch runs it; the backward takes the forward's y). Cells are named relu/PASS in the table.");
        var passes = new Option<string[]>("--pass") { Description = "Only these passes (repeatable): fwd_train, fwd_infer, backward. Default: all.", AllowMultipleArgumentsPerToken = true };
        passes.AcceptOnlyFromAmong(BenchmarkRunner.Passes);
        var command = new Command("bench", "Time kernels on the benchmark shapes: median ms, effective GB/s, the fraction of a same-size streaming probe, and the median ratio to an anchor timed in the same rounds.")
        {
            layout, threads, format, runs, kernels, anchor, shapes, passes, activation,
        };
        command.SetAction(parse => Run(parse.GetValue(layout)!, parse.GetValue(threads), parse.GetValue(format) == "jsonl", parse.GetValue(runs), parse.GetValue(kernels)!,
            parse.GetValue(anchor) ?? [], parse.GetValue(shapes) ?? [], parse.GetValue(passes) ?? [], ActivationOption.Parse(parse.GetValue(activation)!)));
        return command;
    }

    private static int Run(string layoutName, int threads, bool jsonl, int runs, string[] kernelNames, string[] anchorNames, string[] shapeNames, string[] passNames, Activation activation)
    {
        // An unknown kernel name throws ArgumentException naming it: exit 2 before anything is timed.
        var kernels = kernelNames.Select(name => KernelCatalog.Create(name, threads)).ToList();
        using var anchors = Anchors(anchorNames, threads);
        foreach (var kernel in kernels.Concat(anchors.List.OfType<KernelAnchor>().Select(a => a.Kernel)))
        {
            if (!kernel.Supports(activation))
                throw new UsageException($"--activation {activation.Short()}: kernel {kernel.Name} does not fuse it (IBatchNormKernel.Supports is false).");
        }

        Layout[] layouts = layoutName switch
        {
            "nchw" => [Layout.ChannelsFirst],
            "nhwc" => [Layout.ChannelsLast],
            "both" => [Layout.ChannelsFirst, Layout.ChannelsLast],
            _ => throw new UsageException($"--layout {layoutName}: must be nchw, nhwc or both."),
        };
        var shapes = BenchShape.Defaults.Where(s => shapeNames.Length == 0 || shapeNames.Contains(s.Name));
        var passes = BenchmarkRunner.Passes.Where(p => passNames.Length == 0 || passNames.Contains(p));
        var cells = (from kernel in kernels from l in layouts from shape in shapes from pass in passes select (kernel, l, shape, pass)).ToList();
        var runner = new BenchmarkRunner(threads, runs, anchors.List, activation);
        var console = ConsoleOutput.Create();
        var rows = new List<BenchRow>();
        void MeasureAll(Action<BenchRow> done)
        {
            foreach (var (kernel, l, shape, pass) in cells)
            {
                var row = runner.Measure(kernel, shape, l, pass);
                rows.Add(row);
                done(row);
            }
        }

        if (jsonl)
        {
            MeasureAll(row => Console.WriteLine(row.ToJsonLine()));
            return Verdict(rows);
        }

        if (console.Profile.Capabilities.Interactive)
        {
            console.Progress().Start(context =>
            {
                var task = context.AddTask("bench", maxValue: cells.Count);
                MeasureAll(row =>
                {
                    task.Description = $"bench {row.Kernel} {row.Layout} {row.Shape} {row.Pass}";
                    task.Increment(1);
                });
            });
        }
        else
        {
            MeasureAll(_ => { });
        }

        var table = new Table().Border(TableBorder.Simple);
        foreach (string column in new[] { "kernel", "layout", "shape", "pass", "ms", "GB/s", "roofline" })
            table.AddColumn(column);
        foreach (var a in anchors.List)
        {
            table.AddColumn($"{a.Name} ms");
            table.AddColumn($"ours / {a.Name} (p25-p75)");
        }

        table.AddColumn("checked");

        foreach (var row in rows)
            table.AddRow(row.Cells());
        console.Write(table);
        console.WriteLine(Legend);
        console.WriteLine($"Speed policies sized for a last-level cache of {LastLevelCache.Description}; {LastLevelCache.Variable} forces another.");
        foreach (var row in rows.Where(r => r.Drifted.Any()))
            Console.Out.WriteLine($"{row.Layout} {row.Shape} {row.Pass}: the time of {string.Join(" and ", row.Drifted)} drifted over the rounds (its first and last thirds of rounds do not overlap)");
        foreach (var check in rows.SelectMany(r => r.Checks.Where(c => !c.Passed).Select(c => (r, c))))
            Console.Out.WriteLine($"{check.r.Layout} {check.r.Shape} {check.r.Pass}: {check.c.Summary}");
        return Verdict(rows);
    }

    /// <summary>Exit 1 when a timed computation failed its check (its ratio is no comparison with batch norm), else 0.</summary>
    private static int Verdict(List<BenchRow> rows) => rows.All(r => r.AllVerified) ? ExitCodes.Passed : ExitCodes.Failed;

    /// <summary>What the table's columns mean, printed under it.</summary>
    internal const string Legend =
        "ms: median time of one call. GB/s: the pass's compulsory traffic (its inputs read once, its output written once) per second. " +
        "roofline: that rate over a plain parallel copy of the same arrays on this machine: a fraction of what memory streams on data larger than " +
        "the last-level cache; above 1 on cache-resident data, where the copy's per-call overhead, not bandwidth, sets its rate, so there it says little. " +
        "ours / ANCHOR (p25-p75): the median over the rounds of our time over the anchor's in the same round, and its 25th-75th percentile; " +
        "below 1 is faster; a spread that straddles 1 is a difference this sitting cannot call. " +
        "checked: ours and every anchor verified once on the cell, as verify judges a case (PyTorch on the very tensors its helper times); " +
        "an anchor that fails is no batch norm, its ratio is not shown and bench exits 1. " +
        "Each cell starts PyTorch's helper afresh, so no cell reuses what an earlier one left; a participant whose first third of rounds " +
        "does not overlap its last third is named under the table (its time depended on when in the cell it was taken).";

    /// <summary>The anchors asked for; with none named, each one installed (PyTorch's absence is said on stderr).</summary>
    private static AnchorSet Anchors(string[] names, int threads)
    {
        if (names.Contains("none"))
            return new AnchorSet([]);
        bool chosen = names.Length > 0;
        var list = new List<IBenchAnchor>();
        foreach (string name in chosen ? names.Distinct() : ["onednn", "pytorch"])
        {
            if (name == "pytorch")
            {
                try
                {
                    list.Add(PyTorchAnchor.Start(threads));
                }
                catch (UsageException e) when (!chosen)
                {
                    Console.Error.WriteLine($"(no PyTorch anchor: {e.Message})");
                }
            }
            else if (chosen || KernelCatalog.Names.Contains(name))
            {
                list.Add(new KernelAnchor(KernelCatalog.Create(name, threads)));
            }
        }

        return new AnchorSet(list);
    }

    /// <summary>The anchors of one bench run, disposed together (PyTorch's helper process exits).</summary>
    private sealed class AnchorSet(IReadOnlyList<IBenchAnchor> list) : IDisposable
    {
        public IReadOnlyList<IBenchAnchor> List => list;

        public void Dispose()
        {
            foreach (var anchor in list)
                anchor.Dispose();
        }
    }
}
