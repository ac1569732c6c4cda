using System.CommandLine;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary><c>bnverify compare</c>: verifies tensors produced elsewhere, given as .npy files.</summary>
internal static class CompareCommand
{
    private static readonly (BatchNormInput Key, string Description)[] InputFlags =
    [
        (BatchNormInput.Gamma, "Scale per channel, shape (C,)."),
        (BatchNormInput.Beta, "Shift per channel, shape (C,)."),
        (BatchNormInput.RunningMean, "Running mean before the call (training) or the one used (inference), (C,)."),
        (BatchNormInput.RunningVariance, "Running variance before the call (training) or the one used (inference), (C,)."),
        (BatchNormInput.Dy, "Backward: gradient with respect to y, shaped as x."),
        (BatchNormInput.SavedMean, "Training backward: the mean the forward pass saved (default: computed from x)."),
        (BatchNormInput.SavedInvStd, "Training backward: the 1/sqrt(var + eps) the forward pass saved (default: computed from x)."),
    ];

    private static readonly (BatchNormOutput Key, string Description)[] OutputFlags =
    [
        (BatchNormOutput.Y, "Forward output to check, shaped as x."),
        (BatchNormOutput.BatchMean, "Training forward: batch mean to check, (C,)."),
        (BatchNormOutput.BatchVariance, "Training forward: biased batch variance to check, (C,)."),
        (BatchNormOutput.BatchInvStd, "Training forward: 1/sqrt(var + eps) to check, (C,)."),
        (BatchNormOutput.RunningMean, "Training forward: updated running mean to check, (C,)."),
        (BatchNormOutput.RunningVariance, "Training forward: updated running variance to check, (C,)."),
        (BatchNormOutput.Dx, "Backward: input gradient to check, shaped as x."),
        (BatchNormOutput.DGamma, "Backward: scale gradient to check, (C,)."),
        (BatchNormOutput.DBeta, "Backward: shift gradient to check, (C,)."),
    ];

    public static Command Create()
    {
        var x = new Option<FileInfo>("--x") { Description = "Input x: (N, C, spatial...) for nchw, (N, spatial..., C) for nhwc, (N, C) dense. float32 or float64 .npy, C order.", Required = true };
        var layout = new Option<string>("--layout") { Description = "nchw or nhwc.", DefaultValueFactory = _ => "nchw" };
        layout.AcceptOnlyFromAmong("nchw", "nhwc");
        var mode = new Option<string>("--mode") { Description = "training or inference.", DefaultValueFactory = _ => "training" };
        mode.AcceptOnlyFromAmong("training", "inference");
        var pass = new Option<string>("--pass") { Description = "forward or backward.", DefaultValueFactory = _ => "forward" };
        pass.AcceptOnlyFromAmong("forward", "backward");
        var convention = new Option<string>("--convention") { Description = "Running-statistics rule: pytorch, keras or onnx.", DefaultValueFactory = _ => "pytorch" };
        convention.AcceptOnlyFromAmong("pytorch", "keras", "onnx");
        var eps = StrictNumbers.Double("--eps", "Epsilon (default: the convention's).", e => double.IsFinite(e) && e > 0, "0 < eps, finite");
        var momentum = StrictNumbers.Double("--momentum", "Momentum (default: the convention's).", m => m >= 0 && m <= 1, "0 <= momentum <= 1");
        var json = new Option<FileInfo?>("--json") { Description = "Write the comparison as JSON." };
        var junit = new Option<FileInfo?>("--junit") { Description = "Write JUnit XML." };
        var html = new Option<FileInfo?>("--html") { Description = "Write a self-contained HTML report: plots of error against bound, the diagnosis and damage map." };
        var inputs = InputFlags.Select(f => (f.Key, Option: new Option<FileInfo?>(ExternalComparison.Flag(f.Key)) { Description = f.Description })).ToArray();
        var outputs = OutputFlags.Select(f => (f.Key, Option: new Option<FileInfo?>(ExternalComparison.Flag(f.Key)) { Description = f.Description })).ToArray();
        var contract = ContractOption.Create("How the kernel that produced the outputs computes; default: float-pairwise/rounded-centre/folded.");
        var command = new Command("compare", "Verify batch norm tensors produced elsewhere (.npy) against the reference, with verify's tolerance model and exit codes.")
        {
            x, layout, mode, pass, convention, eps, momentum, contract, json, junit, html,
        };
        foreach (var option in inputs.Select(i => i.Option).Concat(outputs.Select(o => o.Option)))
            command.Options.Add(option);

        command.SetAction(parse =>
        {
            var rule = parse.GetValue(convention) switch
            {
                "keras" => RunningStatsConvention.Keras,
                "onnx" => RunningStatsConvention.Onnx,
                "pytorch" => RunningStatsConvention.PyTorch,
                var other => throw new InvalidOperationException($"--convention accepted '{other}', which no rule handles"),
            };
            var defaults = BatchNormOptions.For(rule);
            bool training = parse.GetValue(mode) == "training", forward = parse.GetValue(pass) == "forward";
            var run = new ExternalRun
            {
                Pass = (training, forward) switch
                {
                    (true, true) => BatchNormPass.ForwardTraining,
                    (false, true) => BatchNormPass.ForwardInference,
                    (true, false) => BatchNormPass.BackwardTraining,
                    (false, false) => BatchNormPass.BackwardInference,
                },
                Layout = parse.GetValue(layout) == "nhwc" ? Layout.ChannelsLast : Layout.ChannelsFirst,
                Options = defaults with { Epsilon = parse.GetValue(eps) ?? defaults.Epsilon, Momentum = parse.GetValue(momentum) ?? defaults.Momentum },
                Inputs = Paths(parse, inputs).Append(new(BatchNormInput.X, parse.GetValue(x)!.ToString())).ToDictionary(),
                Outputs = Paths(parse, outputs).ToDictionary(),
                Contract = parse.GetValue(contract) ?? NumericalContract.Default,
            };
            return Run(run, parse.GetValue(json), parse.GetValue(junit), parse.GetValue(html));
        });
        return command;
    }

    private static IEnumerable<KeyValuePair<TName, string>> Paths<TName>(ParseResult parse, IEnumerable<(TName Key, Option<FileInfo?> Option)> options) =>
        options.Where(o => parse.GetValue(o.Option) is not null).Select(o => new KeyValuePair<TName, string>(o.Key, parse.GetValue(o.Option)!.ToString()));

    /// <summary>Checks the report paths, compares, prints and writes the reports. Bad input throws before anything is written.</summary>
    private static int Run(ExternalRun run, FileInfo? json, FileInfo? junit, FileInfo? html)
    {
        ReportFiles.Check(("--json", json), ("--junit", junit), ("--html", html));
        BatchNormValidation.CheckOptions(run.Options);
        var result = ExternalComparison.Run(run) with
        {
            ReproduceWith = Invocation.Bnverify + " " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };

        var console = ConsoleOutput.Create();
        console.WriteLine($"judged by contract {run.Contract}{(run.Contract == NumericalContract.Default ? " (the default; --contract gives the producing kernel's)" : "")}");
        foreach (var output in result.Outputs)
        {
            console.WriteLine($"{output.Output.Name(),-16} max abs {ReportFormat.Short(output.MaxAbsoluteError),-9} max rel {ReportFormat.Short(output.MaxRelativeError),-9} " +
                              $"max ULP {ReportFormat.Ulps(output.MaxUlps),-9} error/bound {ReportFormat.Ratio(output.WorstRatio),-9} " +
                              $"systematic {ReportFormat.OptionalRatio(output.SystematicRatio),-9} residual {ReportFormat.OptionalRatio(output.ResidualRatio),-9} {(output.Passed ? "passed" : "FAILED")}");
        }

        if (result.Verdict != Verdict.Passed)
            Console.Out.WriteLine(TextReport.Failure(result));   // plain: never wrapped at the console width
        ReportFiles.WriteAll(
            (json, () => JsonReport.Render("external", "compare", 0, [result])),
            (junit, () => JUnitReport.Render("external", "compare", [result])),
            (html, () => Html.HtmlReport.Render("external", "compare", null, 0, [result], null)));
        return result.Verdict == Verdict.Passed ? ExitCodes.Passed : ExitCodes.Failed;
    }
}
