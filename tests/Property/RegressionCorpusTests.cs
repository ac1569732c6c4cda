using BatchNorm.Tests.Property.Infrastructure;
using Xunit;

namespace BatchNorm.Tests.Property;

/// <summary>Every counterexample ever recorded in tests/Property/Regressions is replayed through every kernel.</summary>
public class RegressionCorpusTests
{
    private static readonly Dictionary<string, Action<PropertyCase>> Laws = new()
    {
        ["reference-backward-identities"] = ReferenceLawProperties.BackwardIdentities,
        ["optimized-moments"] = OptimizedLawProperties.Moments,
        ["relu-agreement"] = ReluProperties.Agreement,
    };

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(PropertyRunner.RegressionFolder(), "*.txt").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void RecordedCounterexamplesPassInEveryKernel(string file)
    {
        string text = File.ReadAllText(Path.Combine(PropertyRunner.RegressionFolder(), file));
        var c = PropertyCase.Parse(text);
        foreach (var kernel in Checks.EveryKernel())
            Checks.AgreesWithReference(kernel, c);

        // Also through the property that found it, where that property is a function of the case alone.
        string property = text.Split('\n')[0].Replace("# property:", "", StringComparison.Ordinal).Trim();
        if (Laws.TryGetValue(property, out var law))
            law(c);
    }

    [Fact]
    public void TheTextFormatRoundTripsEveryValue()
    {
        foreach (var c in FsCheck.Fluent.Gen.Sample(Generators.Cases().Generator, 20))
        {
            var again = PropertyCase.Parse(c.ToString());
            Assert.Equal(c.Shape, again.Shape);
            Assert.Equal(c.Options, again.Options);
            Assert.Equal(c.X.Select(BitConverter.SingleToInt32Bits), again.X.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(c.Dy, again.Dy);
            Assert.Equal(c.Gamma, again.Gamma);
            Assert.Equal(c.RunningVariance, again.RunningVariance);
        }
    }

}
