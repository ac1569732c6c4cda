using System.Diagnostics;
using System.Text.Json.Nodes;

namespace BatchNorm.Tests.Unit.Probes;

/// <summary>
/// The folder every probe points into: bad files of every kind (a FIFO, a folder, empty, text, truncated and lying .npy
/// files, a .npy of another dtype or shape), a regular file to stand where a folder should, an export of one case and
/// manifests spoiled one field at a time. Made once per test process, before any probe runs; a probe must leave it as
/// it found it (<see cref="Snapshot"/>).
/// </summary>
internal static class ProbeSandbox
{
    private static readonly Lazy<string> Made = new(Make);

    public static string Root { get; } = Path.Combine(Path.GetTempPath(), $"bnverify-probes-{Environment.ProcessId}");

    /// <summary>The sandbox, made on first use.</summary>
    public static string Folder => Made.Value;

    public static string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>The PyTorch fixtures compare's probes start from: a training forward with running statistics, and a training backward.</summary>
    public static string Forward => Path.Combine(PyTorchFixture.Root, "mean-1e3-nchw-train-forward");

    public static string Backward => Path.Combine(PyTorchFixture.Root, "normal-nchw-train-backward");

    /// <summary>The bad .npy files, by the name a probe's id gives them.</summary>
    public static readonly string[] BadNpyFiles =
        ["missing.npy", "folder", "fifo", "/dev/zero", "empty.npy", "text.npy", "truncated.npy", "huge-dims.npy", "int32.npy", "structured.npy", "short-data.npy", "vector3.npy"];

    /// <summary>Every entry under the sandbox: kind, size and last write, to show a probe wrote nothing.</summary>
    public static string Snapshot() => string.Join('\n', Directory.EnumerateFileSystemEntries(Folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(p => Directory.Exists(p) ? $"{p}/" : $"{p} {new FileInfo(p).Length} {File.GetLastWriteTimeUtc(p).Ticks}"));

    private static string Make()
    {
        if (Directory.Exists(Root))
            Directory.Delete(Root, recursive: true);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(PathOf("folder"));
        Directory.CreateDirectory(PathOf("out"));
        Run("mkfifo", PathOf("fifo"));
        File.WriteAllBytes(PathOf("empty.npy"), []);
        File.WriteAllText(PathOf("text.npy"), "x,y\n1,2\n");
        File.WriteAllText(PathOf("regular-file"), "a file where a folder should be\n");
        byte[] x = File.ReadAllBytes(Path.Combine(Forward, "x.npy"));
        File.WriteAllBytes(PathOf("truncated.npy"), x[..20]);
        File.WriteAllBytes(PathOf("short-data.npy"), x[..^4]);
        File.WriteAllBytes(PathOf("huge-dims.npy"), NpyBytes.File("'<f4'", "(100000000000000000000000000, 2)", new byte[16]));
        File.WriteAllBytes(PathOf("int32.npy"), NpyBytes.File("'<i4'", NpyBytes.Shape(3), new byte[12]));
        File.WriteAllBytes(PathOf("structured.npy"), NpyBytes.File("[('a', '<f4'), ('b', '<f4')]", NpyBytes.Shape(3), new byte[24]));
        File.WriteAllBytes(PathOf("vector3.npy"), NpyBytes.File("'<f4'", NpyBytes.Shape(3), new byte[12]));
        File.WriteAllText(PathOf("baseline-text.json"), "not json\n");
        File.WriteAllText(PathOf("baseline-empty.json"), "");
        File.WriteAllText(PathOf("not-an-assembly.dll"), "MZ but not really\n");
        File.Copy(Path.Combine(Bnverify.RepositoryRoot(), "accuracy-baseline.json"), PathOf("baseline.json"));
        MakeManifests();
        return Root;
    }

    /// <summary>The names of the spoiled manifests, each a copy of a one-case export with one thing changed.</summary>
    public static readonly (string Name, string Field, Action<JsonObject> Spoil)[] Manifests =
    [
        ("format", "format", m => m["format"] = "bnverify-suite/0"),
        ("suite", "suite", m => m["suite"] = "medium"),
        ("seed", "seed", m => m["seed"] = "20261121"),
        ("saved-statistics", "saved_statistics", m => m["saved_statistics"] = "maybe"),
        ("shard", "shard", m => m["shard"] = "3/2"),
        ("contract", "contract", m => m["contract"] = "double/two-pass"),
        ("unknown-field", "contarct", m => m["contarct"] = "double/two-pass/centred"),
        ("cases-empty", "cases", m => m["cases"] = new JsonArray()),
        ("cases-not-array", "cases", m => m["cases"] = "all"),
        ("case-duplicated", "listed twice", m => m["cases"]!.AsArray().Add(m["cases"]![0]!.DeepClone())),
        ("case-unknown", "no-such-case", m => m["cases"]![0]!["name"] = "no-such-case"),
        ("case-directory", "directory", m => m["cases"]![0]!["directory"] = "../elsewhere"),
        ("case-x-shape", "x_shape", m => m["cases"]![0]!["x_shape"]![0] = m["cases"]![0]!["x_shape"]![0]!.GetValue<long>() + 1),
        ("case-eps", "eps", m => m["cases"]![0]!["eps"] = 1e-3),
        ("case-momentum", "momentum", m => m["cases"]![0]!["momentum"] = "0.1"),
        ("case-convention", "convention", m => m["cases"]![0]!["convention"] = "keras"),
        ("case-inputs", "inputs", m => m["cases"]![0]!["inputs"]!["x"] = "../../x.npy"),
        ("case-outputs", "outputs", m => m["cases"]![0]!["outputs"]!.AsObject().Remove("y")),
        ("case-field-unknown", "colour", m => m["cases"]![0]!["colour"] = "red"),
        ("case-outside-filter", "normal/nchw/train", m => m["case"] = "normal/nhwc"),
        ("not-json", "not valid JSON", _ => throw new InvalidOperationException("written as text")),
    ];

    private static void MakeManifests()
    {
        string export = PathOf("export");
        var run = Bnverify.Run("export", export, "--case", "normal/nchw/train");
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"the probes' export failed: {run.Output}{run.Error}");
        string manifest = File.ReadAllText(Path.Combine(export, "manifest.json"));
        foreach (var (name, _, spoil) in Manifests)
        {
            string folder = PathOf(Path.Combine("manifests", name));
            CopyTree(export, folder);
            string text;
            if (name == "not-json")
            {
                text = manifest[..(manifest.Length / 2)];
            }
            else
            {
                var root = JsonNode.Parse(manifest)!.AsObject();
                spoil(root);
                text = root.ToJsonString();
            }

            File.WriteAllText(Path.Combine(folder, "manifest.json"), text);
        }
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string folder in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, folder)));
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(program, args);
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}");
    }
}
