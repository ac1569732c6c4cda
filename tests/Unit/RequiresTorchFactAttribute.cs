using System.Diagnostics;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// A fact that needs Debian's PyTorch (<c>/usr/bin/python3</c> with <c>import torch</c>): skipped with
/// the install command as the reason where it is missing. CI installs it, so there it runs.
/// </summary>
public sealed class RequiresTorchFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<bool> Available = new(() =>
    {
        if (!File.Exists(Python))
            return false;
        using var process = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.StandardError.ReadToEnd();
        return process.WaitForExit(60_000) && process.ExitCode == 0;
    });

    public RequiresTorchFactAttribute()
    {
        if (!Available.Value)
            Skip = "needs PyTorch: apt-get update && apt-get install -y python3-torch";
    }
}
