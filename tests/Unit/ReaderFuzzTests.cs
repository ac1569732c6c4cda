using System.Text;
using BatchNorm.Harness.Npy;
using BatchNorm.Harness.Ratchet;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// Seeded mutations of valid files: the .npy reader and the baseline reader either read a file or
/// refuse it with <see cref="InvalidDataException"/> and a message; no other exception, no hang.
/// BNVERIFY_FUZZ_SCALE multiplies the number of mutations (a longer run: BNVERIFY_FUZZ_SCALE=100).
/// </summary>
public class ReaderFuzzTests
{
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("BNVERIFY_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;

    [Fact]
    public void TheNpyReaderReadsOrRefusesEveryMutation()
    {
        byte[][] seeds =
        [
            NpyArray.EncodeFloat32([1f, -2f, 3.5f, float.NaN, 1e-40f, 6f], 2, 3),
            NpyArray.EncodeFloat32(Enumerable.Range(0, 40).Select(i => (float)i).ToArray(), 2, 4, 5),
            File.ReadAllBytes(Path.Combine(Bnverify.RepositoryRoot(), "tests", "Fixtures", "PyTorch", "normal-nchw-train-forward", "gamma.npy")),
        ];
        var random = new Random(20261122);
        int read = 0, refused = 0;
        for (int k = 0; k < 3000 * Scale; k++)
        {
            byte[] bytes = Mutate(seeds[k % seeds.Length], random);
            try
            {
                var array = NpyArray.Parse(bytes, "fuzz");
                Assert.Equal(array.Shape.Aggregate(1L, (a, b) => a * b), array.Values.LongLength);
                Assert.True(array.Values.LongLength * (array.IsFloat64 ? 8 : 4) <= bytes.Length, "no allocation beyond the file's size");
                read++;
            }
            catch (InvalidDataException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                refused++;
            }
        }

        Assert.True(read > 100 && refused > 100, $"the mutations exercise both outcomes ({read} read, {refused} refused)");
    }

    [Fact]
    public void TheBaselineReaderReadsOrRefusesEveryMutation()
    {
        string valid = File.ReadAllText(Path.Combine(Bnverify.RepositoryRoot(), AccuracyBaseline.FileName));
        // A small valid baseline keeps each parse cheap: the first kernel's first two cases.
        string small = "{\"quick\": {\"optimized\": {\"seed\": 20261121, \"cases\": {\"normal/nchw/train\": {\"y\": 4.6E-07, \"batchMean\": 2.6E-09}, " +
                       "\"normal/nchw/infer\": {\"y\": 2.7E-07}}}}}";
        Assert.NotNull(AccuracyBaseline.Parse(valid, "committed"));
        byte[] seed = Encoding.UTF8.GetBytes(small);
        var random = new Random(20261123);
        int read = 0, refused = 0;
        for (int k = 0; k < 2000 * Scale; k++)
        {
            string text = Encoding.UTF8.GetString(Mutate(seed, random));
            try
            {
                AccuracyBaseline.Parse(text, "fuzz");
                read++;
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("fuzz: ", e.Message, StringComparison.Ordinal);
                refused++;
            }
        }

        Assert.True(read > 20 && refused > 100, $"the mutations exercise both outcomes ({read} read, {refused} refused)");
    }

    /// <summary>One to four of: flip a byte, overwrite a byte with a digit or a structural character, truncate, duplicate a span, delete a span.</summary>
    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = original.ToList();
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)"0123456789-,:(){}[]'\" eE."[random.Next(25)];
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    int length = Math.Min(random.Next(1, 16), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                case 4:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 8), bytes.Count - at));
                    break;
                default:
                    // Leave the byte alone: some mutants stay valid, so reading is exercised too.
                    break;
            }
        }

        return [.. bytes];
    }
}
