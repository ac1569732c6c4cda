using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Tests.Property.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.Property;

/// <summary>The properties fail on planted bugs, and the shrinkers bring the counterexample down to a readable size.</summary>
public class PlantedBugTests(ITestOutputHelper output)
{
    /// <summary>
    /// A fixed seed: how far a failure shrinks depends on the cases drawn, and this claim (at most 4
    /// samples and 2 channels) must hold the same way on every run.
    /// </summary>
    private const ulong PlantedSeed = 20261121;

    [Theory]
    [InlineData("faulty:eps-outside-sqrt")]
    [InlineData("faulty:backward-no-mean-dy")]
    [InlineData("faulty:tail-skipped")]
    [InlineData("faulty:channel-tail-off-by-one")]
    [InlineData("faulty:one-pass-variance")]
    public void TheAgreementPropertyFailsAndShrinksToAtMostFourSamplesAndTwoChannels(string name)
    {
        var kernel = KernelCatalog.Create(name);
        var failure = Assert.Throws<PropertyFailedException>(() =>
            PropertyRunner.Check(output, $"planted-{name}", Generators.Cases(), c => Checks.AgreesWithReference(kernel, c), maxTest: 200, recordRegression: false, fixedSeed: PlantedSeed));
        Assert.Contains("Replay: BNVERIFY_PROPERTY_REPLAY=", failure.Message);
        var shrunk = PropertyCase.Parse(failure.Message[(failure.Message.IndexOf("Shrunk counterexample:\n", StringComparison.Ordinal) + 23)..failure.Message.IndexOf("\nOutcome:", StringComparison.Ordinal)]);
        output.WriteLine(failure.Message);
        Assert.True(shrunk.Shape.N <= 4 && shrunk.Shape.C <= 2, $"shrunk only to {shrunk.Shape}");
    }

    [Fact]
    public void TheIsolationPropertyFailsOnANaNLeak()
    {
        var kernel = KernelCatalog.Create("faulty:nan-leak");
        var failure = Assert.Throws<PropertyFailedException>(() =>
            PropertyRunner.Check(output, "planted-nan-leak", Generators.NonFiniteInOneChannel(), c =>
            {
                int channel = c.Shape.CoordinatesOf(Array.FindIndex(c.X, v => !float.IsFinite(v))).C;
                float[] clean = c.X.Select(v => float.IsFinite(v) ? v : 0.5f).ToArray();
                var dirty = Checks.Run(kernel, c, Harness.Cases.BatchNormPass.ForwardTraining).Run.Outputs[BatchNormOutput.Y];
                var reference = Checks.Run(kernel, c with { X = clean }, Harness.Cases.BatchNormPass.ForwardTraining).Run.Outputs[BatchNormOutput.Y];
                for (int i = 0; i < dirty.Length; i++)
                {
                    if (c.Shape.CoordinatesOf(i).C != channel)
                        Checks.BitwiseEqual(dirty.AsSpan(i, 1), reference.AsSpan(i, 1), $"y[{i}]");
                }
            }, maxTest: 100, recordRegression: false, fixedSeed: PlantedSeed));
        Assert.Contains("Shrunk counterexample", failure.Message);
    }

    /// <summary>
    /// The agreement property over hunt's cases (the generators the [Property] tests draw from) fails on planted bugs,
    /// shrinks with hunt's shrinker, and prints a case file that replays the counterexample.
    /// </summary>
    [Theory]
    [InlineData("faulty:eps-outside-sqrt")]
    [InlineData("faulty:tail-skipped")]
    [InlineData("faulty:relu-gate-from-x")]
    public void TheHuntedAgreementPropertyFailsAndPrintsACaseFile(string name)
    {
        var kernel = KernelCatalog.Create(name);
        var replay = FSharpOption<Replay>.Some(new Replay(new Rnd(PlantedSeed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None));
        var failure = Assert.ThrowsAny<Exception>(() => Prop.ForAll(HuntedCases.Float32(), c => Checks.AgreesWithReference(kernel, c.Materialize()))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(200).WithReplay(replay)));
        output.WriteLine(failure.Message);
        Assert.Contains("case file (save it and run bnverify verify --case-file FILE):", failure.Message);
        Assert.Contains("\"format\": \"bnverify-case/1\"", failure.Message);
        Assert.Matches(@"\d+ shrink", failure.Message);
    }
}
