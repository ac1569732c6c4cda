using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// <c>--kernel-assembly</c>: kernels from a user's build (tests/UserKernels: the sample consumer's plain
/// kernel and its planted bug, a kernel without a parameterless constructor, one whose constructor throws).
/// </summary>
public class UserKernelAssemblyTests
{
    private static string UserKernels { get; } = Path.Combine(Bnverify.RepositoryRoot(), "tests", "UserKernels", "bin",
        AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release", "net10.0", "UserKernels.dll");

    [Fact]
    public void KernelsListsTheAssemblysKernelsAndWhyTheOthersCannotBeUsed()
    {
        var run = Bnverify.Run("kernels", "--kernel-assembly", UserKernels);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["plain (MyKernels.PlainBatchNorm)", "plain-bessel-bug (MyKernels.BesselBatchNorm)", "plain-bf16 (UserKernels.BFloat16Kernel)"], run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.Contains("UserKernels.NeedsAnArgumentKernel (unusable: has no public parameterless constructor)", run.Error);
        Assert.Contains("UserKernels.ThrowingConstructorKernel (unusable: cannot be constructed: its constructor threw InvalidOperationException: libmykernel.so was not found)", run.Error);
    }

    [Fact]
    public void APlainKernelFromTheAssemblyPassesAndItsPlantedBugFails()
    {
        var plain = Bnverify.Run("verify", "--kernel-assembly", UserKernels, "--kernel", "plain");
        Assert.True(plain.ExitCode == 0, plain.Output + plain.Error);
        Assert.Contains("plain, suite quick, seed 20261121: 89 passed, 0 failed", plain.Output);

        var bug = Bnverify.Run("verify", "--kernel-assembly", UserKernels, "--kernel", "plain-bessel-bug", "--case", "normal/nchw/train");
        Assert.Equal(1, bug.ExitCode);
        Assert.Contains("istd off by", bug.Output);
        Assert.Contains($"--kernel plain-bessel-bug --case normal/nchw/train --seed 20261121 --kernel-assembly {UserKernels}", bug.Output);
    }

    [Fact]
    public void AUserKernelDeclaresItsDataFormatThroughTheInterface()
    {
        var run = Bnverify.Run("verify", "--kernel-assembly", UserKernels, "--kernel", "plain-bf16");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("plain-bf16, suite quick, bf16, seed 20261121: 87 passed, 0 failed", run.Output);

        // It does not fuse a ReLU (the interface's default): refused before any case runs.
        var relu = Bnverify.Run("verify", "--kernel-assembly", UserKernels, "--kernel", "plain-bf16", "--activation", "relu");
        Assert.Equal(2, relu.ExitCode);
        Assert.Contains("--activation relu: kernel plain-bf16 does not fuse it", relu.Error);
    }

    [Theory]
    [InlineData("NeedsAnArgumentKernel", "--kernel NeedsAnArgumentKernel: UserKernels.NeedsAnArgumentKernel in {0} has no public parameterless constructor.")]
    [InlineData("UserKernels.ThrowingConstructorKernel", "--kernel UserKernels.ThrowingConstructorKernel: UserKernels.ThrowingConstructorKernel in {0} cannot be constructed: its constructor threw InvalidOperationException: libmykernel.so was not found.")]
    [InlineData("no-such-kernel", "--kernel no-such-kernel: no kernel of that name in {0}; it has: plain-bessel-bug; plain; plain-bf16; UserKernels.NeedsAnArgumentKernel (has no public parameterless constructor); UserKernels.ThrowingConstructorKernel (cannot be constructed: its constructor threw InvalidOperationException: libmykernel.so was not found).")]
    [InlineData(null, "--kernel-assembly {0}: has 5 kernels, name one with --kernel: plain-bessel-bug; plain; plain-bf16; UserKernels.NeedsAnArgumentKernel (has no public parameterless constructor); UserKernels.ThrowingConstructorKernel (cannot be constructed: its constructor threw InvalidOperationException: libmykernel.so was not found).")]
    public void AKernelThatCannotBeUsedExitsTwoWithTheReason(string? kernel, string message)
    {
        string[] args = kernel is null ? ["verify", "--kernel-assembly", UserKernels] : ["verify", "--kernel-assembly", UserKernels, "--kernel", kernel];
        var run = Bnverify.Run(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, UserKernels), run.Error.TrimEnd());
        Assert.Empty(run.Output);
    }

    [Theory]
    [InlineData("no-such.dll", "no such file.")]
    [InlineData("README.md", "not a .NET assembly.")]
    [InlineData("src/Core/bin/{0}/net10.0/BatchNorm.Core.dll", "has no public, non-abstract class implementing IBatchNormKernel.")]
    public void AnAssemblyThatCannotBeUsedExitsTwoWithTheReason(string path, string reason)
    {
        string full = Path.Combine(Bnverify.RepositoryRoot(), string.Format(System.Globalization.CultureInfo.InvariantCulture, path,
            AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release"));
        var run = Bnverify.Run("kernels", "--kernel-assembly", full);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"--kernel-assembly {full}: {reason}", run.Error.TrimEnd());
    }
}
