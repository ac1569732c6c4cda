using System.Diagnostics;
using System.Runtime.InteropServices;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Npy;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Exchange;

/// <summary>
/// <c>bnverify check</c>: verifies the outputs a program wrote into an exported suite, case by case,
/// in benchdnn's order as <c>verify</c> does: fill (the case's inputs, drawn again from its seed), reference,
/// the program's outputs read from files, compare, judge. The input files must still be the exported
/// ones, bit for bit: a program that writes its inputs fails, as a kernel that writes outside its outputs does.
/// </summary>
internal static class ExportCheck
{
    /// <summary>The file a program that ran an export may write beside the manifest to declare its kernel's contract (one line).</summary>
    public const string ContractFileName = "contract.txt";

    /// <summary>
    /// Reads <c>manifest.json</c> of an export; the contract a program declared in <see cref="ContractFileName"/>
    /// takes the place of the manifest's.
    /// </summary>
    /// <exception cref="InvalidDataException">No manifest, one <see cref="ExportManifest.Parse"/> refuses, or a contract file that is not one contract.</exception>
    public static (ExportManifest Manifest, IReadOnlyList<VerificationCase> Cases) Open(string root)
    {
        string path = Path.Combine(root, ExportManifest.FileName);
        if (!File.Exists(path))
            throw new InvalidDataException($"{root}: has no {ExportManifest.FileName}; it is not an exported suite (or its export did not finish).");
        var (manifest, cases) = ExportManifest.Parse(AtomicFile.ReadText(path), path);
        string declared = Path.Combine(root, ContractFileName);
        if (!File.Exists(declared))
            return (manifest, cases);
        string text = AtomicFile.ReadText(declared).Trim();
        try
        {
            return (manifest with { Contract = NumericalContract.Parse(text) }, cases);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{declared}: \"{text}\": {e.Message}", e);
        }
    }

    /// <summary>The contract a check judges by: the one given (check --contract), else the manifest's (contract.txt, export --contract), else the default.</summary>
    public static NumericalContract ContractFor(ExportManifest manifest, NumericalContract? given) => given ?? manifest.Contract ?? NumericalContract.Default;

    /// <summary>
    /// Checks one case under <paramref name="contract"/> (default: the manifest's, else <see cref="NumericalContract.Default"/>);
    /// a missing, unreadable or mis-sized output is a violation of that case, never an exception.
    /// </summary>
    public static CaseResult Check(string root, ExportManifest manifest, ExportedCase exported, VerificationCase @case, string kernel, NumericalContract? contract = null)
    {
        var clock = Stopwatch.StartNew();
        contract = ContractFor(manifest, contract);
        var inputs = CaseInputs.Draw(@case, manifest.Seed);
        var expected = ExpectedOutputs.Compute(@case, inputs, contract);
        string folder = Path.Combine(root, exported.Directory);
        var violations = new List<string>();

        foreach (var input in exported.Inputs)
        {
            string file = input.FileStem() + ".npy";
            if (Read(Path.Combine(folder, file), inputs[input].Length, out string? problem) is not { } values)
                violations.Add($"{input.Name()}: {file} {problem}");
            else if (!MemoryMarshal.AsBytes(values.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(inputs[input].AsSpan())))
                violations.Add($"{input.Name()}: {file} is no longer the exported input (the program wrote to an input, or the export is of another bnverify)");
        }

        var outputs = new Dictionary<BatchNormOutput, float[]>();
        foreach (var output in exported.Outputs)
        {
            string file = output.FileStem() + ".npy";
            int length = output.IsElementwise() ? @case.Shape.ElementCount : @case.Shape.C;
            if (Read(Path.Combine(folder, file), length, out string? problem) is { } values)
                outputs[output] = values;
            else
                violations.Add($"{output.Name()}: {file} {problem}");
        }

        // CompareOutputs names an expected output the program did not write as well; the line above has said why.
        return CaseRunner.Judge(kernel, @case, manifest.Seed, contract, expected.Where(e => outputs.ContainsKey(e.Name)).ToArray(), outputs, violations, clock, inputs);
    }

    /// <summary>A float32 .npy of <paramref name="length"/> elements, or null with the reason.</summary>
    private static float[]? Read(string path, int length, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            problem = "is missing";
            return null;
        }

        NpyArray array;
        try
        {
            array = NpyArray.Read(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be read: {e.Message}";
            return null;
        }

        if (array.IsFloat64)
            problem = "is float64; a float32 kernel's tensors are saved as float32";
        else if (array.Values.Length != length)
            problem = $"has {array.Values.Length} elements; the case needs {length}";
        return problem is null ? array.ToFloat32() : null;
    }
}
