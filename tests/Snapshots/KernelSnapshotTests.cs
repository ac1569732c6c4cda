using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;
using Shouldly;
using Xunit;

namespace BatchNorm.Tests.Snapshots;

/// <summary>
/// Every bit of the optimized kernel's outputs on fixed cases, one approved file per case and
/// width (widths may sum in different orders). A changed bit fails here with a diff to review;
/// approve it with the cp command Shouldly prints.
/// </summary>
public class KernelSnapshotTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var @case in SnapshotCases.All)
        {
            foreach (string width in KernelCatalog.OptimizedWidths)
                data.Add(@case.Name, width);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputsMatchTheApprovedBits(string caseName, string width)
    {
        string text = Snapshot(caseName, width, KernelCatalog.Create(width, 1));
        Snapshot(caseName, width, KernelCatalog.Create(width, 2)).ShouldBe(text, "the snapshot must not depend on the thread count");
        text.ShouldMatchApproved(b => b.WithDiscriminator($"{caseName}.{width}").SubFolder("Approved").LocateTestMethodUsingAttribute<FactAttribute>());
    }

    [Fact]
    public void OneFlippedBitFailsTheRightSnapshotWithAReadableDiff()
    {
        string width = KernelCatalog.OptimizedWidths[0];
        string text = Snapshot("dense-4x5", width, new OneBitFlipped(KernelCatalog.Create(width, 1)));
        var failure = Should.Throw<ShouldMatchApprovedException>(() =>
            text.ShouldMatchApproved(b => b.WithDiscriminator($"dense-4x5.{width}").SubFolder("Approved").LocateTestMethodUsingAttribute<FactAttribute>().NoDiff()
                .WithFilenameGenerator((_, discriminator, type, extension) => $"KernelSnapshotTests.OutputsMatchTheApprovedBits{discriminator}.{type}.{extension}")));
        string approved = Path.Combine(SourceFolder(), "Approved", $"KernelSnapshotTests.OutputsMatchTheApprovedBits.dense-4x5.{width}.approved.txt");
        string received = approved.Replace(".approved.txt", ".received.txt", StringComparison.Ordinal);
        try
        {
            // The failure names the snapshot of that case and width, and prints the command that approves it.
            Assert.Contains($"cp \"{received}\" \"{approved}\"", failure.Message);

            // Line by line, the received file differs from the approved one in exactly the flipped
            // element's line (its hex bits change in the last place), apart from y's headroom figure.
            string[] before = File.ReadAllLines(approved), after = File.ReadAllLines(received);
            Assert.Equal(before.Length, after.Length);
            var changed = before.Zip(after).Where(pair => pair.First != pair.Second && !pair.First.StartsWith("headroom ", StringComparison.Ordinal)).ToArray();
            var line = Assert.Single(changed);
            Assert.StartsWith("7      (1, 2, 0)", line.First);
            Assert.NotEqual(line.First[^10..], line.Second[^10..]);
        }
        finally
        {
            File.Delete(received);
        }
    }

    internal static string Snapshot(string caseName, string width, IBatchNormKernel kernel)
    {
        var @case = SnapshotCases.All.Single(c => c.Name == caseName);
        var inputs = CaseInputs.Draw(@case, SnapshotCases.Seed);
        var run = KernelRun.Execute(kernel, @case, inputs);
        run.Violations.ShouldBeEmpty();
        return SnapshotText.Render(@case, width, inputs, run.Outputs);
    }

    private static string SourceFolder([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>A kernel whose y element 7 has its lowest bit flipped.</summary>
    private sealed class OneBitFlipped(IBatchNormKernel inner) : IBatchNormKernel
    {
        public string Name => inner.Name;

        public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            inner.ForwardTraining(shape, options, t);
            t.Y[7] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(t.Y[7]) ^ 1);
        }

        public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t) => inner.ForwardInference(shape, options, t);

        public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t) => inner.BackwardTraining(shape, t);

        public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => inner.BackwardInference(shape, options, t);
    }
}
