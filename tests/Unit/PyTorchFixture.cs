using System.Text.Json;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Npy;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// One folder of tests/Fixtures/PyTorch (made by tools/pytorch-fixtures/make_fixtures.py): PyTorch's
/// inputs and outputs as .npy, and fixture.json naming the call and the files.
/// </summary>
internal sealed record PyTorchFixture(string Name, string Folder, BatchNormPass Pass, Layout Layout, BatchNormOptions Options,
    IReadOnlyDictionary<BatchNormInput, string> Inputs, IReadOnlyDictionary<BatchNormOutput, string> Outputs)
{
    public static string Root => Path.Combine(Bnverify.RepositoryRoot(), "tests", "Fixtures", "PyTorch");

    public static IEnumerable<string> Names => Directory.GetDirectories(Root).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static PyTorchFixture Load(string name)
    {
        string folder = Path.Combine(Root, name);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "fixture.json")));
        var root = json.RootElement;
        bool forward = root.GetProperty("pass").GetString() == "forward", training = root.GetProperty("mode").GetString() == "training";
        var pass = (forward, training) switch
        {
            (true, true) => BatchNormPass.ForwardTraining,
            (true, false) => BatchNormPass.ForwardInference,
            (false, true) => BatchNormPass.BackwardTraining,
            (false, false) => BatchNormPass.BackwardInference,
        };
        var options = BatchNormOptions.PyTorch with { Epsilon = root.GetProperty("eps").GetDouble(), Momentum = root.GetProperty("momentum").GetDouble() };
        var inputs = root.GetProperty("inputs").EnumerateObject().ToDictionary(p => Enum.GetValues<BatchNormInput>().Single(i => i.Name() == p.Name), p => Path.Combine(folder, p.Value.GetString()!));
        var outputs = root.GetProperty("outputs").EnumerateObject().ToDictionary(p => BatchNormTensors.ParseOutput(p.Name), p => Path.Combine(folder, p.Value.GetString()!));
        var layout = root.GetProperty("layout").GetString() == "nhwc" ? Layout.ChannelsLast : Layout.ChannelsFirst;
        return new PyTorchFixture(name, folder, pass, layout, options, inputs, outputs);
    }

    /// <summary>The contract PyTorch 1.13's CPU kernels meet by construction (examples/pytorch/run_suite.py declares it too).</summary>
    public static readonly NumericalContract PyTorchContract = NumericalContract.Parse("float-sequential/two-pass/folded-fma");

    /// <summary>The fixture as compare takes it, judged by PyTorch's contract.</summary>
    public ExternalRun Run => new() { Pass = Pass, Layout = Layout, Options = Options, Inputs = Inputs, Outputs = Outputs, Contract = PyTorchContract };

    /// <summary>The run without PyTorch's saved statistics: the verifier must admit its own rounding of them.</summary>
    public ExternalRun RunWithoutSavedStatistics => Run with
    {
        Inputs = Inputs.Where(i => i.Key is not (BatchNormInput.SavedMean or BatchNormInput.SavedInvStd)).ToDictionary(),
    };

    public float[] Read(BatchNormOutput output) => NpyArray.Read(Outputs[output]).ToFloat32();

    public long[] ShapeOf(BatchNormOutput output) => NpyArray.Read(Outputs[output]).Shape;
}
