using System.CommandLine;
using BatchNorm.Harness.Cases;

namespace BatchNorm.Cli;

/// <summary><c>--activation none|relu</c>, shared by the commands that build a suite (verify, export) and bench.</summary>
internal static class ActivationOption
{
    public static Option<string> Create(string description = "What the kernel fuses after the affine step: none (plain batch norm) or relu (y = max(y, 0); the backward takes the forward's y). relu runs every case fused, named relu/...")
    {
        var option = new Option<string>("--activation")
        {
            Description = description,
            DefaultValueFactory = _ => Activation.None.Short(),
        };
        option.AcceptOnlyFromAmong([.. Enum.GetValues<Activation>().Select(a => a.Short())]);
        return option;
    }

    /// <summary>The activation of an accepted name.</summary>
    public static Activation Parse(string name) => Enum.GetValues<Activation>().Single(a => a.Short() == name);
}
