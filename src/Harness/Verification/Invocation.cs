namespace BatchNorm.Harness.Verification;

/// <summary>How a reproducer line starts: the command that runs bnverify where the report was made.</summary>
internal static class Invocation
{
    /// <summary>From the repository's build (tests, <c>dotnet run</c>): the command that builds and runs it from the root.</summary>
    public const string FromSource = "dotnet run --project src/Cli -c Release --";

    /// <summary>
    /// "bnverify" when bnverify runs from an installed tool, <see cref="FromSource"/> when it runs from
    /// the repository's build output (src/Cli/bin). Decided once, from where this assembly was loaded.
    /// </summary>
    public static string Bnverify { get; } =
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/src/Cli/bin/", StringComparison.Ordinal) ? FromSource : "bnverify";
}
