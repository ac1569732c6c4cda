using System.CommandLine;

namespace BatchNorm.Cli;

/// <summary><c>--contract SUMS/STATISTICS/APPLY</c>, shared by verify, check, compare and export.</summary>
internal static class ContractOption
{
    /// <summary>The option; its value is null when not given. A value that does not parse is a usage error (exit 2) naming the part and the rule.</summary>
    public static Option<NumericalContract?> Create(string description) => new("--contract")
    {
        Description = description + " Written SUMS/STATISTICS/APPLY, e.g. double/two-pass/centred (docs/tolerances.md, \"Contracts\").",
        CustomParser = result =>
        {
            string token = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
            try
            {
                return NumericalContract.Parse(token);
            }
            catch (FormatException e)
            {
                result.AddError($"--contract {token}: {e.Message}.");
                return null;
            }
        },
    };
}
