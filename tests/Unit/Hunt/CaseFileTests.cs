using System.Text.Json.Nodes;
using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Hunt;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BatchNorm.Tests.Unit.Hunt;

/// <summary>The case file: every case hunt can draw reads back as itself, and every bad field is refused by name.</summary>
public class CaseFileTests
{
    public static TheoryData<DataPrecision> Precisions() => [.. Enum.GetValues<DataPrecision>()];

    [Theory]
    [MemberData(nameof(Precisions))]
    public void EveryDrawnCaseReadsBackAsItself(DataPrecision precision)
    {
        var cases = CaseGenerators.Cases(Enum.GetValues<Activation>(), precision).Sample(numberOfSamples: 300, seed: new Rnd(7UL, 3UL), size: 100);
        Assert.All(cases, c =>
        {
            string json = CaseFile.Render(c, "some-kernel", "a note");
            var read = CaseFile.Parse(json, "case.json");
            Assert.Equal(c, read);
            Assert.Equal(json, CaseFile.Render(read, "some-kernel", "a note"));
        });
        // The sample covers what the file must carry: both layouts, every pass, several families and a set draw seed.
        Assert.Equal(2, cases.Select(c => c.Shape.Layout).Distinct().Count());
        Assert.Equal(4, cases.Select(c => c.Pass).Distinct().Count());
        Assert.True(cases.Select(c => c.Values).Distinct().Count() >= 4);
        Assert.All(cases, c => Assert.NotNull(c.DrawSeed));
    }

    [Fact]
    public void ASuiteCaseHasNoCaseFile() =>
        Assert.Throws<ArgumentException>(() => CaseFile.Render(Battery.For(Suite.Quick)[0]));

    private static string Valid() => CaseFile.Render(CaseGenerators.Settle(new VerificationCase
    {
        Name = "hunt",
        DrawSeed = 42,
        Shape = new TensorShape(2, 3, 16, Layout.ChannelsLast),
        Pass = BatchNormPass.ForwardTraining,
    }));

    [Fact]
    public void TheValidFileOfTheseTestsReads() => Assert.Equal(42, CaseFile.Parse(Valid(), "case.json").DrawSeed);

    /// <summary>A field set to a bad value (or removed, for null), and what the message must say.</summary>
    [Theory]
    [InlineData("format", "\"bnverify-case/2\"", "format \"bnverify-case/2\" is not bnverify-case/1")]
    [InlineData("name", "\"a name\"", "name \"a name\" must be non-empty with no spaces")]
    [InlineData("seed", "1.5", "\"seed\" must be an integer")]
    [InlineData("seed", null, "\"seed\" must be an integer")]
    [InlineData("pass", "\"forward\"", "pass \"forward\" is not one of train, infer, backward-train, backward-infer")]
    [InlineData("layout", "\"nwhc\"", "layout \"nwhc\" is not one of nchw, nhwc")]
    [InlineData("n", "0", "n 0 must be at least 1")]
    [InlineData("s", "100000000", "elements is over the 67108864 a case file may describe")]
    [InlineData("convention", "\"torch\"", "convention \"torch\" is not one of pytorch, keras, onnx")]
    [InlineData("eps", "0", "eps must be finite and greater than 0")]
    [InlineData("momentum", "1.5", "momentum must be in [0, 1]")]
    [InlineData("activation", "\"gelu\"", "activation \"gelu\" is not one of none, relu")]
    [InlineData("precision", "\"fp8\"", "precision \"fp8\" is not one of fp32, bf16, fp16")]
    [InlineData("values", "\"gaussian\"", "values \"gaussian\" is not one of normal, uniform, exact-pairs, mixed-scales, subnormal")]
    [InlineData("spread", "0", "spread 0 must be greater than 0")]
    [InlineData("offset", "\"0\"", "\"offset\" must be a number")]
    [InlineData("feature", "\"NaN\"", "feature \"NaN\" is not one of none, nan, infinity, constant")]
    [InlineData("gamma", "\"one\"", "gamma \"one\" is not one of random, absent, zero, negative")]
    [InlineData("with_beta", "1", "\"with_beta\" must be true or false")]
    [InlineData("contarct", "\"double\"", "has a field \"contarct\" that bnverify-case/1 does not have")]
    public void ABadFieldIsRefusedWithTheFieldTheValueAndTheRule(string field, string? value, string message)
    {
        var root = JsonNode.Parse(Valid())!.AsObject();
        if (value is null)
            root.Remove(field);
        else
            root[field] = JsonNode.Parse(value);
        var e = Assert.Throws<InvalidDataException>(() => CaseFile.Parse(root.ToJsonString(), "/x/case.json"));
        Assert.StartsWith("/x/case.json: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    /// <summary>Cases the verifier cannot judge are refused (hunt found the first: odd-M exact pairs crashed verify).</summary>
    [Theory]
    [InlineData("{\"values\": \"exact-pairs\", \"offset\": 3, \"s\": 15}", "exact pairs need M = N*S a power of two from 2 to 4096, not 30")]
    [InlineData("{\"values\": \"exact-pairs\", \"offset\": 3, \"s\": 4096}", "exact pairs need M = N*S a power of two from 2 to 4096, not 8192")]
    [InlineData("{\"n\": 1, \"s\": 1, \"convention\": \"pytorch\"}", "needs M > 1")]
    [InlineData("{\"precision\": \"fp16\", \"offset\": 1e6}", "precision fp16 cannot hold its values")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{", "not JSON")]
    public void ACaseTheVerifierCannotJudgeIsRefused(string change, string message)
    {
        string json;
        if (JsonNode.Parse(change.StartsWith('{') && !change.EndsWith('}') ? "null" : change) is JsonObject fields)
        {
            var root = JsonNode.Parse(Valid())!.AsObject();
            foreach (var (key, value) in fields)
                root[key] = value?.DeepClone();
            json = root.ToJsonString();
        }
        else
        {
            json = change;
        }

        var e = Assert.Throws<InvalidDataException>(() => CaseFile.Parse(json, "case.json"));
        Assert.Contains(message, e.Message);
    }
}
