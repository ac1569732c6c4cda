using System.CommandLine;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Cli;

/// <summary><c>bnverify export</c>: a suite's inputs as .npy files and a manifest, for a kernel that runs outside bnverify.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "A new or empty folder to write the suite into." };
        var suite = new Option<string>("--suite") { Description = "quick or full.", DefaultValueFactory = _ => "quick" };
        suite.AcceptOnlyFromAmong("quick", "full");
        var activation = ActivationOption.Create();
        var precision = new Option<string>("--precision")
        {
            Description = "The format of the data tensors (x, y, dy, dx, forward_y): fp32, bf16 or fp16. Inputs are written as float32 values of it; outputs must be values of it.",
            DefaultValueFactory = _ => DataPrecision.Float32.ShortName(),
        };
        precision.AcceptOnlyFromAmong([.. Enum.GetValues<DataPrecision>().Select(p => p.ShortName())]);
        var seed = StrictNumbers.Int("--seed", "Suite seed.", int.MinValue, int.MaxValue, Battery.DefaultSeed);
        var caseName = new Option<string?>("--case") { Description = "Export only this case (or every case whose name starts with it followed by '/')." };
        var ownStatistics = new Option<bool>("--own-statistics")
        {
            Description = "Training backward without saved statistics: the program computes its own from x (as autograd does) and check admits their float rounding.",
        };
        var shard = RunReport.ShardOption();
        var contract = ContractOption.Create("Record the contract the program's kernel declares in manifest.json, so check holds it to that contract's bounds.");
        var command = new Command("export", "Write a suite's inputs (.npy) and manifest.json into DIR; a program runs its kernel on them and writes the outputs beside them; 'bnverify check DIR' verifies them.")
        {
            directory, suite, activation, precision, seed, caseName, ownStatistics, shard, contract,
        };
        command.SetAction(parse =>
        {
            var chosen = parse.GetValue(suite) == "full" ? Suite.Full : Suite.Quick;
            var format = Enum.GetValues<DataPrecision>().Single(p => p.ShortName() == parse.GetValue(precision));
            var cases = Verifier.Select(chosen, parse.GetValue(caseName), ActivationOption.Parse(parse.GetValue(activation)!), format);
            if (cases.Count == 0)
                throw new UsageException($"--case {parse.GetValue(caseName)}: no case has that name or starts with it followed by '/'{VerifyCommand.CaseNameHint(ActivationOption.Parse(parse.GetValue(activation)!), format)}.");
            if (parse.GetValue(shard) is var (k, n))
            {
                cases = Verifier.Shard(cases, k, n);
                if (cases.Count == 0)
                    throw new UsageException($"--shard {k}/{n}: selects no case{(parse.GetValue(caseName) is { } only ? $" of --case {only}" : "")}; an export of no case would be checked as passing.");
            }
            bool own = parse.GetValue(ownStatistics);
            cases = cases.Select(c => own && c.Pass == BatchNormPass.BackwardTraining ? c with { SavedStatisticsFromKernel = true } : c).ToArray();
            var manifest = new ExportManifest(chosen, parse.GetValue(seed), parse.GetValue(shard), own, cases.Select(ExportManifest.Describe).ToArray())
            {
                Contract = parse.GetValue(contract),
                CaseFilter = parse.GetValue(caseName),
            };
            string root = parse.GetValue(directory)!.ToString();
            SuiteExport.Write(root, manifest, cases);
            Console.WriteLine($"Exported {cases.Count} cases of suite {parse.GetValue(suite)} to {root}; run your kernel on each case's inputs, then: bnverify check {root}");
            return ExitCodes.Passed;
        });
        return command;
    }
}
