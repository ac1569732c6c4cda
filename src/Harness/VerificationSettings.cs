namespace BatchNorm.Harness;

/// <summary>Which cases of a suite <see cref="BatchNormVerifier.Verify"/> runs, and with which seed.</summary>
public sealed record VerificationSettings
{
    /// <summary>The suite seed; each case's inputs are drawn from it and the case's name.</summary>
    public int Seed { get; init; } = BatchNormVerifier.DefaultSeed;

    /// <summary>
    /// What every case fuses after the affine step (default <see cref="Activation.None"/>); with
    /// <see cref="Activation.Relu"/> the cases are named relu/... and the kernel must declare
    /// <see cref="Kernels.IBatchNormKernel.Supports"/> for it.
    /// </summary>
    public Activation Activation { get; init; } = Activation.None;

    /// <summary>
    /// The contract to judge the kernel by instead of the one it declares (<see cref="Kernels.IBatchNormKernel.Contract"/>);
    /// null to use the kernel's (or <see cref="NumericalContract.Default"/> when it declares none).
    /// </summary>
    public NumericalContract? Contract { get; init; }

    /// <summary>Only this case, or every case whose name starts with it followed by '/'; null for all.</summary>
    public string? Case { get; init; }

    /// <summary>
    /// Shard K of N (1-based): the cases whose name hashes to K - 1 modulo N. The N shards together are
    /// the suite, and a case keeps its shard when others are added. Null for no sharding.
    /// </summary>
    public (int K, int N)? Shard { get; init; }
}
