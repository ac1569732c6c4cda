using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>Cases are identified by name: their data does not move when others are added, and every output they promise is checked.</summary>
public class CaseIdentityTests
{
    [Fact]
    public void ACaseDrawsTheSameDataWhereverItStandsInAList()
    {
        // The quick and full suites hold many of the same cases at different positions (the full
        // suite inserts more tails, channels and passes between them): the same name must give the
        // same data in both, as it would after a case is inserted before it.
        var quick = Battery.For(Suite.Quick);
        var full = Battery.For(Suite.Full).ToDictionary(c => c.Name);
        int moved = 0;
        foreach (var @case in quick.Where(c => full.ContainsKey(c.Name)))
        {
            var other = full[@case.Name];
            moved += quick.ToList().IndexOf(@case) != Battery.For(Suite.Full).ToList().FindIndex(c => c.Name == @case.Name) ? 1 : 0;
            Assert.Equal(CaseInputs.Draw(@case, Battery.DefaultSeed).X, CaseInputs.Draw(other, Battery.DefaultSeed).X);
        }

        Assert.True(moved > 10, $"only {moved} shared cases stand at different positions: the test proves little");
    }

    [Fact]
    public void TheNameHashIsFnv1a()
    {
        // Pinned values: a change of hash re-seeds every case, which must be a deliberate act.
        Assert.Equal(0x811C9DC5u, VerificationCase.NameHash(""));
        Assert.Equal(0xE40C292Cu, VerificationCase.NameHash("a"));
        Assert.Equal(0xBF9CF968u, VerificationCase.NameHash("foobar"));
    }

    [Fact]
    public void CaseNamesAreUniqueInEachSuite()
    {
        foreach (var suite in Enum.GetValues<Suite>())
        {
            var names = Battery.For(suite).Select(c => c.Name).ToArray();
            Assert.Equal(names.Length, names.Distinct().Count());
        }
    }

    [Fact]
    public void AnExpectedOutputTheKernelDidNotProduceFailsTheCase()
    {
        var @case = Verifier.Select(Suite.Quick, "normal/nchw/train").Single();
        var inputs = CaseInputs.Draw(@case, Battery.DefaultSeed);
        var expected = ExpectedOutputs.Compute(@case, inputs, NumericalContract.Default);
        var run = KernelRun.Execute(KernelCases.OptimizedAt("optimized"), @case, inputs);
        var withoutVariance = run.Outputs.Where(o => o.Key != BatchNormOutput.BatchVariance).ToDictionary();
        var violations = new List<string>();
        var comparisons = CaseRunner.CompareOutputs(expected, withoutVariance, @case.Shape, violations);
        Assert.Equal(["batchVariance: the kernel run did not produce this output"], violations);
        Assert.DoesNotContain(comparisons, c => c.Output == BatchNormOutput.BatchVariance);

        violations.Clear();
        CaseRunner.CompareOutputs(expected, run.Outputs, @case.Shape, violations);
        Assert.Empty(violations);
    }

    [Fact]
    public void EveryPassWritesTheOutputsTheReferenceExpects()
    {
        foreach (var pass in Enum.GetValues<BatchNormPass>())
        {
            foreach (bool running in new[] { true, false })
            {
                var @case = new VerificationCase { Name = "outputs", Shape = new TensorShape(2, 3, 5, Layout.ChannelsFirst), Pass = pass, WithRunningStats = running };
                var inputs = CaseInputs.Draw(@case, 1);
                var run = KernelRun.Execute(KernelCases.OptimizedAt("optimized"), @case, inputs);
                var promised = BatchNormTensors.OutputsOf(pass, running && pass == BatchNormPass.ForwardTraining);
                Assert.Equal(promised.Order(), run.Outputs.Keys.Order());
                Assert.Equal(promised, ExpectedOutputs.Compute(@case, inputs, NumericalContract.Default).Select(o => o.Name));
            }
        }
    }
}
