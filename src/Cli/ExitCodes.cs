namespace BatchNorm.Cli;

/// <summary>The exit codes every command uses.</summary>
internal static class ExitCodes
{
    /// <summary>Everything checked passed.</summary>
    public const int Passed = 0;

    /// <summary>A case failed or was mistrusted.</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or unusable input, found before any work.</summary>
    public const int Usage = 2;

    /// <summary>An unexpected exception: a bug in bnverify (rerun with --verbose for the stack).</summary>
    public const int Internal = 3;
}
