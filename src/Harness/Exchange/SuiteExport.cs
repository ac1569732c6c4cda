using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Npy;

namespace BatchNorm.Harness.Exchange;

/// <summary>
/// <c>bnverify export</c>: writes every case's inputs as .npy files, one folder per case, and
/// manifest.json last, so a folder without a manifest is an export that did not finish.
/// </summary>
internal static class SuiteExport
{
    /// <summary>
    /// Writes <paramref name="cases"/> of <paramref name="manifest"/>'s suite into <paramref name="root"/>, which must be
    /// new or empty. A failure part way (a full disk, a folder that cannot be made) removes what this export wrote, so
    /// no unfinished export is left to be mistaken for one.
    /// </summary>
    /// <exception cref="IOException"><paramref name="root"/> exists and is not an empty folder, or cannot be written; nothing is left behind.</exception>
    public static void Write(string root, ExportManifest manifest, IReadOnlyList<VerificationCase> cases)
    {
        if (File.Exists(root) || (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any()))
            throw new IOException($"{root}: exists and is not an empty folder; export writes into a new or empty folder, so no file of an older export is mistaken for this one's.");
        bool created = !Directory.Exists(root);
        try
        {
            Directory.CreateDirectory(root);
            WriteCases(root, manifest, cases);
            AtomicFile.Write(Path.Combine(root, ExportManifest.FileName), manifest.ToJson());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RemoveWritten(root, created);
            throw new IOException($"{root}: cannot be written ({e.Message.TrimEnd('.')}); nothing of this export is left.", e);
        }
    }

    private static void WriteCases(string root, ExportManifest manifest, IReadOnlyList<VerificationCase> cases)
    {
        for (int i = 0; i < cases.Count; i++)
        {
            var @case = cases[i];
            var exported = manifest.Cases[i];
            var inputs = CaseInputs.Draw(@case, manifest.Seed);
            string folder = Path.Combine(root, exported.Directory);
            Directory.CreateDirectory(folder);
            foreach (var input in exported.Inputs)
            {
                float[] values = inputs[input];
                long[] shape = input.IsElementwise() ? exported.XShape : [values.Length];
                NpyArray.WriteFloat32(Path.Combine(folder, input.FileStem() + ".npy"), values, shape);
            }
        }
    }

    /// <summary>The folder as it was before: gone if this export made it, else empty again (it was empty). Best effort: the write's error is the one reported.</summary>
    private static void RemoveWritten(string root, bool created)
    {
        try
        {
            if (!Directory.Exists(root))
                return;
            if (created)
            {
                Directory.Delete(root, recursive: true);
                return;
            }

            foreach (string entry in Directory.EnumerateFileSystemEntries(root).ToArray())
            {
                if (Directory.Exists(entry))
                    Directory.Delete(entry, recursive: true);
                else
                    File.Delete(entry);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
