using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Npy;

namespace BatchNorm.Harness.Exchange;

/// <summary>
/// <c>bnverify export</c>: writes every case's inputs as .npy files, one folder per case, and
/// manifest.json last, so a folder without a manifest is an export that did not finish.
/// </summary>
internal static class SuiteExport
{
    /// <summary>Writes <paramref name="cases"/> of <paramref name="manifest"/>'s suite into <paramref name="root"/>, which must be new or empty.</summary>
    /// <exception cref="ArgumentException"><paramref name="root"/> exists and is not an empty folder.</exception>
    public static void Write(string root, ExportManifest manifest, IReadOnlyList<VerificationCase> cases)
    {
        if (File.Exists(root) || (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any()))
            throw new ArgumentException($"{root}: exists and is not an empty folder; export writes into a new or empty folder, so no file of an older export is mistaken for this one's.");
        Directory.CreateDirectory(root);
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

        string manifestPath = Path.Combine(root, ExportManifest.FileName);
        File.WriteAllText(manifestPath + ".tmp", manifest.ToJson());
        File.Move(manifestPath + ".tmp", manifestPath);
    }
}
