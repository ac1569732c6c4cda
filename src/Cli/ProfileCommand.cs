using System.CommandLine;
using System.Globalization;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Cli;

/// <summary><c>bnverify profile</c>: the tightest numerical contract a kernel meets, pass by pass.</summary>
internal static class ProfileCommand
{
    public static Command Create()
    {
        var kernel = new Option<string?>("--kernel") { Description = "Kernel to profile (see 'bnverify kernels'); default: optimized, or the only kernel of --kernel-assembly." };
        var kernelAssembly = new Option<FileInfo?>("--kernel-assembly") { Description = "A .dll with public classes implementing IBatchNormKernel; --kernel picks one by name." };
        var suite = new Option<string>("--suite") { Description = "quick or full.", DefaultValueFactory = _ => "quick" };
        suite.AcceptOnlyFromAmong("quick", "full");
        var activation = ActivationOption.Create();
        var seed = StrictNumbers.Int("--seed", "Suite seed.", int.MinValue, int.MaxValue, Battery.DefaultSeed);
        var threads = StrictNumbers.Int("--threads", $"Threads for the optimized kernels: 0 for all cores, or 1 to {VerifyCommand.MaxThreads}.", 0, VerifyCommand.MaxThreads, 0,
            $"0 (all cores) or 1 to {VerifyCommand.MaxThreads}");
        var command = new Command("profile",
            "Find, pass by pass, the tightest numerical contract a kernel meets on a suite, and how much tighter its bounds are than the default's. " +
            "Exit 0: every pass met a contract; 1: a pass met none (the kernel fails even the loosest); 2: bad usage.")
        {
            kernel, kernelAssembly, suite, activation, seed, threads,
        };
        command.SetAction(parse =>
        {
            var chosen = VerifyCommand.LoadKernel(parse.GetValue(kernel), parse.GetValue(kernelAssembly), parse.GetValue(threads));
            var fused = ActivationOption.Parse(parse.GetValue(activation)!);
            if (!chosen.Supports(fused))
                throw new UsageException($"--activation {fused.Short()}: kernel {chosen.Name} does not fuse it (IBatchNormKernel.Supports is false).");
            var cases = Verifier.Select(parse.GetValue(suite) == "full" ? Suite.Full : Suite.Quick, null, fused, chosen.Precision);
            var profiles = ContractProfile.Profile(chosen, cases, parse.GetValue(seed));
            Console.Out.Write(Render(chosen, parse.GetValue(suite)!, parse.GetValue(seed), profiles));
            return profiles.All(p => p.Tightest is not null) ? ExitCodes.Passed : ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>The profile as text: one block per pass, the tightest contract, the shrink per output, and what the next tighter candidates failed on.</summary>
    public static string Render(IBatchNormKernel kernel, string suite, int seed, IReadOnlyList<PassProfile> profiles)
    {
        var text = new System.Text.StringBuilder();
        string declared = kernel.Contract is { } c ? $"declares {c}" : $"declares no contract (judged by the default, {NumericalContract.Default})";
        text.AppendLine(CultureInfo.InvariantCulture, $"profile of {kernel.Name}, suite {suite}, seed {seed}: it {declared}.");
        foreach (var profile in profiles)
        {
            text.AppendLine();
            string pass = $"{Battery.PassName(profile.Pass)} {profile.Layout.Short()}";
            if (profile.Tightest is null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{pass} ({profile.Cases} cases): meets no contract; even the loosest fails {profile.Trials[^1].FirstFailure}.");
                continue;
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"{pass} ({profile.Cases} cases): tightest contract met {profile.Tightest}");
            if (profile.Shrink.Count > 0)
            {
                text.AppendLine("  bounds, median times tighter than the default's: " +
                                string.Join(", ", profile.Shrink.Select(s => $"{s.Output.Name()} {ReportFormat.Short(s.Shrink)}x")));
            }

            foreach (var trial in profile.Trials.Where(t => !t.Met))
                text.AppendLine(CultureInfo.InvariantCulture, $"  not met: {trial.Contract} ({trial.Failed} cases; first {trial.FirstFailure})");
        }

        return text.ToString();
    }
}
