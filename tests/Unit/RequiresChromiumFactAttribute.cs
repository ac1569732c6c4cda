using System.Diagnostics;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// A fact that needs Debian's Chromium (<c>/usr/bin/chromium</c>) to render a page headless: skipped with the install
/// command as the reason where it is missing. CI installs it, so there it runs.
/// </summary>
public sealed class RequiresChromiumFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public RequiresChromiumFactAttribute()
    {
        if (!File.Exists(Chromium))
            Skip = "needs Chromium: apt-get update && apt-get install -y chromium";
    }

    /// <summary>
    /// The DOM of <paramref name="address"/> after its load event and scripts, as headless Chromium serialises it
    /// (<c>--dump-dom</c>); its profile in <paramref name="profile"/>. No sandbox: CI runs as root, which Chromium's sandbox refuses.
    /// </summary>
    public static string DumpDom(string address, string profile)
    {
        var start = new ProcessStartInfo(Chromium, ["--headless", "--no-sandbox", "--disable-gpu", $"--user-data-dir={profile}", "--dump-dom", address])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish within 2 minutes: {error.Result}");
        }

        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {error.Result}");
        return output.Result;
    }
}
