using System.Globalization;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness;

/// <summary>
/// The library's entry point: verifies a kernel on a suite, as <c>bnverify verify</c> does, from a
/// test or a program. It depends on no test framework; <see cref="VerificationReport.EnsurePassed"/>
/// throws with the whole report as the message, which xunit, NUnit and MSTest all show as the failure.
/// </summary>
/// <example>
/// <code>
/// [Fact]
/// public void MyKernelComputesBatchNorm() => BatchNormVerifier.Verify(new MyKernel(), Suite.Quick).EnsurePassed();
/// </code>
/// </example>
public static class BatchNormVerifier
{
    /// <summary>The seed of the suites unless <see cref="VerificationSettings.Seed"/> gives another.</summary>
    public const int DefaultSeed = Battery.DefaultSeed;

    /// <summary>
    /// Runs every case of <paramref name="suite"/> (or the ones <paramref name="settings"/> selects) on
    /// <paramref name="kernel"/>, with its data in the kernel's <see cref="IBatchNormKernel.Precision"/>: each pass is called twice on guarded copies of the case's inputs and
    /// compared with the double-precision reference within the bounds of docs/tolerances.md. Whatever
    /// the kernel throws is that case's failure, not an exception of this method.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="kernel"/> is null.</exception>
    /// <exception cref="ArgumentException">The settings select no case, name an impossible shard, or an activation the kernel does not support.</exception>
    public static VerificationReport Verify(IBatchNormKernel kernel, Suite suite = Suite.Quick, VerificationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        settings ??= new VerificationSettings();
        var contract = settings.Contract ?? Contracts.Of(kernel);
        if (contract.Inconsistency is { } problem)
            throw new ArgumentException($"Contract {contract}: {problem}.", nameof(settings));
        if (!kernel.Supports(settings.Activation))
            throw new ArgumentException($"Activation {settings.Activation}: kernel {kernel.Name} does not fuse it (IBatchNormKernel.Supports is false).", nameof(settings));
        var cases = Verifier.Select(suite, settings.Case, settings.Activation, kernel.Precision);
        if (cases.Count == 0)
            throw new ArgumentException($"Case '{settings.Case}': no case of suite {suite} has that name or starts with it followed by '/'.", nameof(settings));
        if (settings.Shard is var (k, n))
        {
            if (n < 1 || k < 1 || k > n)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Shard {k}/{n}: must be K/N with 1 <= K <= N."), nameof(settings));
            cases = Verifier.Shard(cases, k, n);
        }

        var results = Verifier.Run(kernel, cases, settings.Seed, contract: contract)
            .Select(r => r with { ReproduceWith = Reproducer(suite, settings, r.Case.Name) })
            .ToList();
        return new VerificationReport(kernel.Name, suite, settings.Seed, settings.Shard, results, contract);
    }

    private static string Reproducer(Suite suite, VerificationSettings settings, string caseName)
    {
        string activation = settings.Activation == Activation.None ? "" : $"Activation = Activation.{settings.Activation}, ";
        if (settings.Contract is { } contract)
            activation += $"Contract = NumericalContract.Parse(\"{contract}\"), ";
        return string.Create(CultureInfo.InvariantCulture,
            $"BatchNormVerifier.Verify(kernel, Suite.{suite}, new VerificationSettings {{ {activation}Case = \"{caseName}\", Seed = {settings.Seed} }})");
    }
}
