using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Cli;

/// <summary>
/// The cases of <c>verify --case-file F</c> and <c>--corpus DIR</c> (files of format <see cref="CaseFile.Format"/>,
/// as <c>hunt</c> writes them), each with the file it came from for its reproducer.
/// </summary>
internal static class CaseFiles
{
    /// <summary>
    /// Every --case-file given (each must be of this run's activation and the kernel's data precision), and every
    /// <c>*.json</c> of the corpus that is (the others belong to another variant's runs and are counted in
    /// <c>Skipped</c>). Names must be unique among them and unlike every suite case's.
    /// </summary>
    /// <exception cref="UsageException">A file is missing or invalid, a --case-file is of another variant, or two cases share a name; the message names the option, the file and the rule.</exception>
    public static (IReadOnlyList<(VerificationCase Case, string File)> Cases, int Skipped) Load(FileInfo[] files, DirectoryInfo? corpus, Activation activation, DataPrecision precision)
    {
        var loaded = new List<(VerificationCase Case, string File)>();
        foreach (var file in files)
        {
            var @case = Read("--case-file", file.FullName);
            if (@case.Options.Activation != activation || @case.Precision != precision)
            {
                throw new UsageException($"--case-file {file}: a case of activation {@case.Options.Activation.Short()} and precision {@case.Precision.ShortName()}; this run is " +
                                         $"{activation.Short()} and {precision.ShortName()} (the kernel's); run it with --activation {@case.Options.Activation.Short()} and a kernel of that precision.");
            }

            loaded.Add((@case, file.FullName));
        }

        int skipped = 0;
        if (corpus is not null)
        {
            if (!corpus.Exists)
                throw new UsageException($"--corpus {corpus}: no such folder.");
            foreach (string path in Directory.GetFiles(corpus.FullName, "*.json").Order(StringComparer.Ordinal))
            {
                var @case = Read("--corpus", path);
                if (@case.Options.Activation == activation && @case.Precision == precision)
                    loaded.Add((@case, path));
                else
                    skipped++;
            }
        }

        var suiteNames = Battery.Every().Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var group in loaded.GroupBy(l => l.Case.Name, StringComparer.Ordinal))
        {
            if (group.Count() > 1)
                throw new UsageException($"case {group.Key}: named by both {group.First().File} and {group.Skip(1).First().File}; each case file needs its own name.");
            if (suiteNames.Contains(group.Key))
                throw new UsageException($"{group.First().File}: the name {group.Key} is a suite case's; a case file needs a name of its own.");
        }

        return (loaded, skipped);
    }

    /// <summary>The command that replays one case file's case.</summary>
    public static string Reproducer(string kernel, string file) => $"{Invocation.Bnverify} verify --kernel {kernel} --case-file {file}";

    private static VerificationCase Read(string option, string path)
    {
        try
        {
            return CaseFile.Parse(File.ReadAllText(path), path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option} {e.Message}", e);
        }
    }
}
