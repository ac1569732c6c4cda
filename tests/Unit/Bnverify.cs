using System.Diagnostics;

namespace BatchNorm.Tests.Unit;

/// <summary>Runs the built bnverify (same configuration as the tests) and captures its exit code and output.</summary>
internal static class Bnverify
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Run"/>, with extra environment variables (e.g. a hardware restriction).</summary>
    public static (int ExitCode, string Output, string Error) RunWith(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunIn(RepositoryRoot(), environment, null, args);

    /// <summary>
    /// As <see cref="RunWith"/>, in <paramref name="workingDirectory"/>; a run that outlives <paramref name="timeout"/> is
    /// killed and reported as exit code -1 with "timed out" in its error output (a hang is a finding, not a stuck test).
    /// </summary>
    public static (int ExitCode, string Output, string Error) RunIn(string workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan? timeout,
        params string[] args)
    {
        string configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = Path.Combine(RepositoryRoot(), "src", "Cli", "bin", configuration, "net10.0", "bnverify.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["CI"] = "true";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, output.Result, $"timed out after {timeout}\n{error.Result}");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    public static string RepositoryRoot() => Support.Repository.Root;
}
