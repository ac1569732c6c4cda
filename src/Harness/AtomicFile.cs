namespace BatchNorm.Harness;

/// <summary>Files bnverify rewrites (reports, the accuracy baseline): written whole or not at all.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// The file system steps of a write, one method each, so a test can fail any one of them and see that the targets
    /// are left as they were (<see cref="Disk"/> is the real file system).
    /// </summary>
    internal interface ISteps
    {
        void CreateDirectory(string path);

        /// <summary>Writes the whole file and flushes it to the disk (fsync), so a move never publishes a file the disk has not got.</summary>
        void WriteTemporary(string path, string text);

        void Move(string from, string to);

        void DeleteFile(string path);

        void DeleteDirectory(string path);
    }

    /// <summary>The real file system.</summary>
    internal sealed class Disk : ISteps
    {
        public static readonly Disk Instance = new();

        public void CreateDirectory(string path) => Directory.CreateDirectory(path);

        public void WriteTemporary(string path, string text)
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            using (var writer = new StreamWriter(stream, leaveOpen: true))
                writer.Write(text);
            stream.Flush(flushToDisk: true);
        }

        public void Move(string from, string to) => File.Move(from, to, overwrite: true);

        public void DeleteFile(string path) => File.Delete(path);

        public void DeleteDirectory(string path) => Directory.Delete(path);
    }

    /// <summary>
    /// Writes <paramref name="text"/> to a temporary file in the target's folder (a short name of its own, valid
    /// wherever the target's name is) and moves it over the target: a failure at any step leaves the target as it
    /// was and no temporary file behind. The target must be a regular file or not exist yet.
    /// </summary>
    /// <exception cref="IOException">The target is not a regular file, or the write or the move failed; the target is untouched.</exception>
    public static void Write(string path, string text) => WriteAll([(path, text)]);

    /// <summary>
    /// Writes every file, all or none: each text goes to a temporary file beside its target (missing folders are
    /// created), and only when every one is on disk are they moved into place. A failure before the moves leaves every
    /// target as it was, and no temporary file or folder this call created. The moves are renames within a folder,
    /// which do not fail for lack of space.
    /// </summary>
    /// <exception cref="IOException">A target is not a regular file, or a step failed; the message names the target.</exception>
    public static void WriteAll(IReadOnlyList<(string Path, string Text)> files, ISteps? steps = null)
    {
        steps ??= Disk.Instance;
        var targets = files.Select(f => Path.GetFullPath(f.Path)).ToArray();
        foreach (string full in targets)
        {
            if (Directory.Exists(full) || (File.Exists(full) && !IsRegularFile(full)))
                throw new IOException($"{full}: is not a regular file; bnverify replaces only regular files.");
        }

        var createdFolders = new List<string>();
        var temporaries = new List<string>();
        bool moved = false;
        try
        {
            for (int i = 0; i < targets.Length; i++)
            {
                string folder = Path.GetDirectoryName(targets[i])!;
                foreach (string missing in MissingFolders(folder))
                {
                    createdFolders.Add(missing);
                    steps.CreateDirectory(missing);
                }

                string temporary = Path.Combine(folder, $".bnverify-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
                temporaries.Add(temporary);
                try
                {
                    steps.WriteTemporary(temporary, files[i].Text);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"{targets[i]}: cannot be written ({e.Message})", e);
                }
            }

            for (int i = 0; i < targets.Length; i++)
                steps.Move(temporaries[i], targets[i]);
            moved = true;
        }
        finally
        {
            foreach (string temporary in temporaries.Where(File.Exists))
                TryDelete(() => steps.DeleteFile(temporary));
            if (!moved)
            {
                // Innermost first: a folder is removed only once the folders this call made inside it are gone.
                foreach (string folder in Enumerable.Reverse(createdFolders))
                    TryDelete(() => steps.DeleteDirectory(folder));
            }
        }
    }

    /// <summary>The folders from the outermost missing one down to <paramref name="folder"/>, to create in that order.</summary>
    private static IEnumerable<string> MissingFolders(string folder)
    {
        var missing = new Stack<string>();
        for (string? current = folder; current is not null && !Directory.Exists(current); current = Path.GetDirectoryName(current))
            missing.Push(current);
        return missing;
    }

    /// <summary>Cleaning up after a failure must not hide the failure: a clean-up that fails too is left.</summary>
    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
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
