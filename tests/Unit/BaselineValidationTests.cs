using BatchNorm.Harness.Ratchet;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The accuracy baseline's reader refuses every file that does not follow its schema, with a message naming the
/// file, the field and the rule (a baseline read wrongly or ignored would switch the ratchet off). In process, each
/// rule on its own file: the CLI tests reach a few of them through a subprocess, which a mutation tool cannot see.
/// </summary>
public class BaselineValidationTests
{
    private const string Name = "b.json";

    /// <summary>A kernel entry that passes, to wrap each broken part in.</summary>
    private const string Case = "normal/nchw/train";

    /// <summary>A baseline whose one kernel entry records <paramref name="outputs"/> for <see cref="Case"/>.</summary>
    private static string WithCase(string outputs) => "{\"quick\": {\"optimized\": {\"seed\": 1, \"cases\": {\"" + Case + "\": " + outputs + "}}}}";

    public static TheoryData<string, string> Refused() => new()
    {
        { "[]", "b.json: the document must be an object, got array." },
        { "\"text\"", "b.json: the document must be an object, got string." },
        { "null", "b.json: the document must be an object, got null." },
        { """{"kernels": {}}""", "b.json: kernels is not a suite (quick, full)." },
        { """{"quick": 3}""", "b.json: quick must be an object, got number." },
        { """{"quick": {"nobody": {}}}""", "b.json: quick.nobody is not a kernel bnverify knows (see 'bnverify kernels'), nor a user assembly's (assembly:NAME)." },
        { """{"quick": {"assembly:": {}}}""", "b.json: quick.assembly: is not a kernel bnverify knows (see 'bnverify kernels'), nor a user assembly's (assembly:NAME)." },
        { """{"quick": {"algorithm:no/such/contract": {}}}""", "b.json: quick.algorithm:no/such/contract is not a kernel bnverify knows (see 'bnverify kernels'), nor a user assembly's (assembly:NAME)." },
        { """{"quick": {"optimized": []}}""", "b.json: quick.optimized must be an object, got array." },
        { """{"quick": {"optimized": {"seed": 1, "cases": {}, "extra": 0}}}""", "b.json: quick.optimized.extra is not a field of a kernel's baseline (seed, contract, cases)." },
        { """{"quick": {"optimized": {"cases": {}}}}""", "b.json: quick.optimized.seed must be a 32-bit integer." },
        { """{"quick": {"optimized": {"seed": "1", "cases": {}}}}""", "b.json: quick.optimized.seed must be a 32-bit integer." },
        { """{"quick": {"optimized": {"seed": 1.5, "cases": {}}}}""", "b.json: quick.optimized.seed must be a 32-bit integer." },
        { """{"quick": {"optimized": {"seed": 4294967296, "cases": {}}}}""", "b.json: quick.optimized.seed must be a 32-bit integer." },
        { """{"quick": {"optimized": {"seed": 1, "contract": 7, "cases": {}}}}""", "b.json: quick.optimized.contract must be a string." },
        { """{"quick": {"optimized": {"seed": 1}}}""", "b.json: quick.optimized.cases must be an object, got null." },
        { """{"quick": {"optimized": {"seed": 1, "cases": {"no/such/case": {}}}}}""", "b.json: quick.optimized.cases.no/such/case is not a case of the battery." },
        { WithCase("""0"""), $"b.json: quick.optimized.cases.{Case} must be an object, got number." },
        { WithCase("""{"z": 0}"""), $"b.json: quick.optimized.cases.{Case}.z is not an output." },
        { WithCase("""{"y": -1}"""), $"b.json: quick.optimized.cases.{Case}.y must be a finite number >= 0, got -1." },
        { WithCase("""{"y": "0"}"""), $"b.json: quick.optimized.cases.{Case}.y must be a finite number >= 0, got \"0\"." },
        { WithCase("""{"y": null}"""), $"b.json: quick.optimized.cases.{Case}.y must be a finite number >= 0, got null." },
        { WithCase("""{"y": 1e400}"""), $"b.json: quick.optimized.cases.{Case}.y must be a finite number >= 0, got 1e400." },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void EachBrokenRuleIsRefusedNamingTheFieldAndTheRule(string text, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Parse(text, Name));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void AContractThatDoesNotParseIsNamedWithTheReason()
    {
        var e = Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Parse("""{"quick": {"optimized": {"seed": 1, "contract": "double/two-pass", "cases": {}}}}""", Name));
        Assert.StartsWith("b.json: quick.optimized.contract \"double/two-pass\" is not a contract (", e.Message);
        Assert.EndsWith(").", e.Message);
    }

    [Fact]
    public void TextThatIsNotJsonOrNestsTooDeeplyIsNotJson()
    {
        Assert.StartsWith("b.json: not JSON: ", Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Parse("{\"quick\": ", Name)).Message);
        // Deeper than 16 levels: refused by the reader before any rule (the same text is otherwise "not a suite").
        string deep = string.Concat(Enumerable.Repeat("{\"a\": ", 20)) + "0" + new string('}', 20);
        Assert.StartsWith("b.json: not JSON: ", Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Parse(deep, Name)).Message);
        string shallow = string.Concat(Enumerable.Repeat("{\"a\": ", 10)) + "0" + new string('}', 10);
        Assert.Equal("b.json: a is not a suite (quick, full).", Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Parse(shallow, Name)).Message);
    }

    [Fact]
    public void AKeyTwiceInOneObjectIsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Parse("""{"quick": {}, "quick": {}}""", Name));
        Assert.StartsWith("b.json: a key appears twice in one object (", e.Message);
    }

    [Fact]
    public void EveryKindOfKernelNameAndAWellFormedEntryAreRead()
    {
        // The algorithm kernel's contract is one the catalog's examples do not list: any contract may follow the prefix.
        foreach (string kernel in new[] { "optimized", "assembly:Mine", "algorithm:float-blocked:37/welford/centred" })
        {
            string text = "{\"quick\": {\"" + kernel + "\": {\"seed\": 7, \"contract\": \"double/two-pass/centred\", \"cases\": {\"" + Case + "\": {\"y\": 0.5, \"batchMean\": 0}}}}, \"full\": {}}";
            var baseline = AccuracyBaseline.Parse(text, Name);
            // The entry was read: a recording at another seed conflicts with the seed it holds.
            Assert.StartsWith($"the baseline records {kernel}'s suite quick at seed 7, not 8", baseline.Conflict(Harness.Suite.Quick, kernel, 8, NumericalContract.Parse("double/two-pass/centred"), replace: false));
        }

        Assert.Equal("assembly:Mine", AccuracyBaseline.KeyOf("Mine", fromAssembly: true));
        Assert.Equal("Mine", AccuracyBaseline.KeyOf("Mine", fromAssembly: false));
    }

    [Fact]
    public void ADirectoryIsRefusedAndAMissingFileIsAnEmptyBaseline()
    {
        string directory = Directory.CreateTempSubdirectory("bnverify-baseline-").FullName;
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Load(directory));
            Assert.Equal($"{directory}: is a directory, not an accuracy baseline.", e.Message);
            string missing = Path.Combine(directory, "none.json");
            var empty = AccuracyBaseline.Load(missing);
            Assert.Null(empty.Held(Harness.Suite.Quick, "optimized", 1, []));
            Assert.False(File.Exists(missing));

            // A file that exists is read: its errors reach the caller.
            File.WriteAllText(missing, "[]");
            Assert.Equal($"{missing}: the document must be an object, got array.", Assert.Throws<InvalidDataException>(() => AccuracyBaseline.Load(missing)).Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
