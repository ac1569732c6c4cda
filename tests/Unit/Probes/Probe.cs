namespace BatchNorm.Tests.Unit.Probes;

/// <summary>
/// One bad-input probe: a bnverify command line that must exit 2 before any work, with one line on standard error that
/// contains <paramref name="Names"/> (the option and the value or path as typed).
/// </summary>
/// <param name="Group">The probe table's group: numbers, choices, missing values, paths read, paths written, manifests, selections.</param>
/// <param name="Args">The arguments, with paths inside <see cref="ProbeSandbox"/>.</param>
/// <param name="Names">What the one line must contain.</param>
public sealed record Probe(string Group, string[] Args, string Names)
{
    /// <summary>The probe's name in test results: its arguments with the sandbox's folder written $SANDBOX, the same in every process.</summary>
    public string Id => string.Join(' ', Args.Select(a => a.Length == 0 ? "''" : a.Replace(ProbeSandbox.Root, "$SANDBOX", StringComparison.Ordinal)));
}
