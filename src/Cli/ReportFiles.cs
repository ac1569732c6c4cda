using BatchNorm.Harness;

namespace BatchNorm.Cli;

/// <summary>
/// The report files a command was asked to write: checked before any work (so a path that cannot
/// be written costs no run and gives exit 2, and nothing is created), then written all or none. Two options naming one file are refused.
/// </summary>
internal static class ReportFiles
{
    /// <summary>
    /// Each given path must name a file (not a folder, a device, a FIFO; no trailing '/') whose folder exists or can
    /// be created under the nearest existing one, which must accept a new file. Creates nothing: the folders are made
    /// when the reports are written, so a run refused later leaves no empty folder behind.
    /// </summary>
    /// <exception cref="UsageException">A path fails; the message names the option, the path as typed and why.</exception>
    public static void Check(params (string Option, FileInfo? File)[] reports)
    {
        var given = reports.Where(r => r.File is not null).ToArray();
        foreach (var (option, file) in given)
        {
            var other = given.FirstOrDefault(g => g.Option != option && string.Equals(g.File!.FullName, file!.FullName, StringComparison.Ordinal));
            if (other.File is not null)
                throw new UsageException($"{option} {file}: the same file as {other.Option}; each report needs its own file, or one would replace the other.");
        }

        foreach (var (option, file) in reports)
        {
            if (file is null)
                continue;
            string typed = file.ToString(), path = file.FullName;
            if (typed.EndsWith('/') || Directory.Exists(path))
                throw new UsageException($"{option} {typed}: names a folder; give a file name.");
            if (File.Exists(path) && !AtomicFile.IsRegularFile(path))
                throw new UsageException($"{option} {typed}: is not a regular file (a device, FIFO or socket); bnverify writes reports only to regular files.");
            var existing = file.Directory;
            while (existing is not null && !existing.Exists)
            {
                if (File.Exists(existing.FullName))
                    throw new UsageException($"{option} {typed}: {existing.FullName} is a file, not a folder.");
                existing = existing.Parent;
            }

            if (existing is null)
                throw new UsageException($"{option} {typed}: no folder of it exists.");
            try
            {
                // A probe file, created and deleted at once: the only sure test that the folder takes a new file.
                string probe = Path.Combine(existing.FullName, $".bnverify-probe-{Environment.ProcessId}");
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
                if (file.Exists && file.IsReadOnly)
                    throw new UsageException($"{option} {typed}: the file is read-only.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or System.Security.SecurityException)
            {
                throw new UsageException($"{option} {typed}: cannot be written ({e.Message})", e);
            }
        }
    }

    /// <summary>Writes every report given, all or none (<see cref="AtomicFile.WriteAll"/>): a failure leaves no report, partial or whole, and no new folder.</summary>
    public static void WriteAll(params (FileInfo? File, Func<string> Render)[] reports) =>
        AtomicFile.WriteAll([.. reports.Where(r => r.File is not null).Select(r => (r.File!.FullName, r.Render()))]);
}
