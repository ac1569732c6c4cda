using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Detectors;
using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The bug detectors on another kernel's real outputs: each element-wise bug kind planted in PyTorch 1.13's committed y
/// or dx (tests/Fixtures/PyTorch), judged under PyTorch's contract as compare judges it; the diagnosis must name the
/// planted kind on every fixture where the plant damages the output.
/// </summary>
public class PyTorchDiagnosisTests(ITestOutputHelper output)
{
    private delegate void Plant(TensorShape shape, float[] values, CaseInputs inputs);

    private static readonly (string Name, BugKind Kind, Plant Apply)[] Plants =
    [
        ("every 2nd element never written", BugKind.Stride, (s, v, _) =>
        {
            for (int i = 1; i < v.Length; i += 2)
                v[i] = float.NaN;
        }),
        ("stored one element late", BugKind.Shift, (s, v, _) =>
        {
            for (int i = v.Length - 1; i > 0; i--)
                v[i] = v[i - 1];
        }),
        ("channel 0 holds x", BugKind.StaleValue, (s, v, inputs) =>
        {
            foreach (int i in s.ChannelOffsets(0))
                v[i] = inputs.X[i];
        }),
        ("sample 0 negated", BugKind.SignOrScale, (s, v, _) =>
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int sp = 0; sp < s.S; sp++)
                    v[(int)s.IndexOf(0, c, sp)] = -v[(int)s.IndexOf(0, c, sp)];
            }
        }),
    ];

    public static TheoryData<string> Fixtures() => new(PyTorchFixture.Names);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void EachPlantedBugIsNamedInPyTorchsOwnOutputs(string name)
    {
        var fixture = PyTorchFixture.Load(name);
        var (@case, inputs) = ExternalComparison.Load(fixture.Run);
        var expected = ExpectedOutputs.Compute(@case, inputs, fixture.Run.Contract);
        int planted = 0;
        foreach (var data in new[] { BatchNormOutput.Y, BatchNormOutput.Dx }.Where(fixture.Outputs.ContainsKey))
        {
            var output_ = expected.Single(e => e.Name == data);
            foreach (var (bug, kind, apply) in Plants)
            {
                float[] values = fixture.Read(data);
                apply(@case.Shape, values, inputs);
                if (Damage.Of(@case, inputs, expected, output_, values) is not { } damage)
                    continue;   // the plant changed nothing beyond the bounds (a sample of zeros negated, M = 1 shifted into itself)
                var finding = BugDetectors.Diagnose(damage);
                output.WriteLine($"{name} {data.Name()} {bug}: {finding?.Line ?? "(none)"}");
                Assert.True(finding?.Kind == kind, $"{name} {data.Name()} {bug}: read as {finding?.Line ?? "nothing"}");
                planted++;
            }
        }

        Assert.True(planted > 0, $"{name}: no plant damaged an output");
    }
}
