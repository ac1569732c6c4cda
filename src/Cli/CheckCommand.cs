using System.CommandLine;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Cli;

/// <summary><c>bnverify check</c>: verifies the outputs a program wrote into an exported suite, with verify's reports and exit codes.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "A folder 'bnverify export' wrote, with the program's outputs beside each case's inputs." };
        var label = new Option<string>("--kernel") { Description = "The kernel's name in the reports.", DefaultValueFactory = _ => "external" };
        var caseName = new Option<string?>("--case") { Description = "Check only this case (or every case whose name starts with it followed by '/')." };
        var contract = ContractOption.Create("The contract to hold the outputs to; default: the manifest's (export --contract), else float-pairwise/rounded-centre/folded.");
        var report = new RunReport.Options();
        var command = new Command("check", "Verify the outputs a program wrote into an exported suite. Exit 0: all passed; 1: a case failed (a missing output fails its case); 2: bad usage or no usable manifest.")
        {
            directory, label, caseName, contract,
        };
        report.AddTo(command);
        command.SetAction(parse =>
        {
            string root = parse.GetValue(directory)!.FullName;
            var (manifest, cases) = ExportCheck.Open(root);
            var chosen = Enumerable.Range(0, cases.Count).ToArray();
            if (parse.GetValue(caseName) is { } filter)
            {
                chosen = chosen.Where(i => Verifier.Matches(cases[i].Name, filter)).ToArray();
                if (chosen.Length == 0)
                    throw new UsageException($"--case {filter}: no case of {root} has that name or starts with it followed by '/'.");
            }

            var run = report.Bind(parse, manifest.Suite.ToString().ToLowerInvariant(), manifest.Seed);
            if (run.Shard is var (k, n))
            {
                var inShard = Verifier.Shard(cases, k, n).Select(c => c.Name).ToHashSet();
                chosen = chosen.Where(i => inShard.Contains(cases[i].Name)).ToArray();
                if (chosen.Length == 0)
                    throw new UsageException($"--shard {k}/{n}: selects no case of {root}; a check of no case would pass having checked nothing.");
            }

            string kernel = parse.GetValue(label)!;
            // Cases of the exported selection the manifest no longer lists: each fails, named, as a missing output does.
            var missing = manifest.Missing(cases).Where(c => parse.GetValue(caseName) is not { } only || Verifier.Matches(c.Name, only))
                .Where(c => run.Shard is not var (sk, sn) || Verifier.Shard([c], sk, sn).Count == 1).ToList();
            var declared = parse.GetValue(contract);
            var results = chosen.Select(i => ExportCheck.Check(root, manifest, manifest.Cases[i], cases[i], kernel, declared) with
            {
                ReproduceWith = $"{Invocation.Bnverify} check {root} --case {cases[i].Name}",
            }).ToList();
            results.AddRange(missing.Select(c => new CaseResult
            {
                Case = c,
                Kernel = kernel,
                SuiteSeed = manifest.Seed,
                Contract = ExportCheck.ContractFor(manifest, declared),
                Outputs = [],
                Violations = [$"the manifest does not list this case of suite {manifest.Suite.ToString().ToLowerInvariant()} (seed {manifest.Seed}): it was exported and not checked; export the suite again"],
                ReproduceWith = $"{Invocation.Bnverify} export --suite {manifest.Suite.ToString().ToLowerInvariant()} --case {c.Name} DIR",
            }));
            return run.Write(ConsoleOutput.Create(), kernel, results);
        });
        return command;
    }
}
