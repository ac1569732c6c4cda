using BatchNorm.Harness;

namespace BatchNorm.Cli;

/// <summary>
/// The report files a command was asked to write: checked before any work (so a path that cannot
/// be written costs no run and gives exit 2), then written whole or not at all.
/// </summary>
internal static class ReportFiles
{
    /// <summary>
    /// Each given path must name a file (not a directory) in a directory that exists or can be
    /// created, and that directory must accept a new file. Creates missing directories.
    /// </summary>
    /// <exception cref="UsageException">A path fails; the message names the option, the path and why.</exception>
    public static void Check(params (string Option, FileInfo? File)[] reports)
    {
        foreach (var (option, file) in reports)
        {
            if (file is null)
                continue;
            string path = file.FullName;
            if (Directory.Exists(path))
                throw new UsageException($"{option} {path}: is a directory; give a file name.");
            if (File.Exists(path) && !AtomicFile.IsRegularFile(path))
                throw new UsageException($"{option} {path}: is not a regular file (a device, FIFO or socket); bnverify writes reports only to regular files.");
            try
            {
                var directory = file.Directory ?? throw new UsageException($"{option} {path}: has no directory.");
                directory.Create();
                string probe = Path.Combine(directory.FullName, $".bnverify-probe-{Environment.ProcessId}");
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
                if (file.Exists && file.IsReadOnly)
                    throw new UsageException($"{option} {path}: the file is read-only.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or System.Security.SecurityException)
            {
                throw new UsageException($"{option} {path}: cannot be written ({e.Message})", e);
            }
        }
    }

    /// <summary>Writes the text to a temporary file beside the target and moves it into place, so a failure leaves no partial file.</summary>
    public static void Write(FileInfo file, string text) => AtomicFile.Write(file.FullName, text);
}
