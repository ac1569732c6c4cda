namespace BatchNorm.Harness;

/// <summary>Files bnverify rewrites (reports, the accuracy baseline): written whole or not at all.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="text"/> to a temporary file in the target's folder (a short name of its own, valid
    /// wherever the target's name is) and moves it over the target: a failure at any step leaves the target as it
    /// was and no temporary file behind. The target must be a regular file or not exist yet.
    /// </summary>
    /// <exception cref="IOException">The target is not a regular file, or the write or the move failed; the target is untouched.</exception>
    public static void Write(string path, string text)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full) || (File.Exists(full) && !IsRegularFile(full)))
            throw new IOException($"{full}: is not a regular file; bnverify replaces only regular files.");
        string folder = Path.GetDirectoryName(full)!;
        string temporary = Path.Combine(folder, $".bnverify-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temporary, text);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    /// <summary>The most a text file bnverify reads (a manifest, a baseline, a contract) may hold: 256 MiB.</summary>
    public const long MaxTextBytes = 256L << 20;

    /// <summary>
    /// The text of a file bnverify reads, after checking it is a regular file of at most <see cref="MaxTextBytes"/>:
    /// a FIFO would block the read and a device (/dev/zero) never end it.
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, not a regular file, too large, or unreadable; the message names the path.</exception>
    public static string ReadText(string path)
    {
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: no such file.");
        if (!IsRegularFile(path))
            throw new InvalidDataException($"{path}: is not a regular file (a device, FIFO or socket).");
        if (new FileInfo(path).Length > MaxTextBytes)
            throw new InvalidDataException($"{path}: larger than the {MaxTextBytes >> 20} MiB bnverify reads.");
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>
    /// True for an existing regular file; false for a device, a FIFO or a socket, which a rename would replace (as
    /// root, /dev/null itself) or a read would block on, and for a path that does not exist.
    /// </summary>
    public static bool IsRegularFile(string path) => File.Exists(path) && FileType.IsRegular(path);
}
