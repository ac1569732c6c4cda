namespace MyKernels;

/// <summary>
/// A planted bug, for the sample's test to show a failure: the batch variance normalized by M - 1
/// (Bessel's correction, right for PyTorch's running variance, wrong for normalizing x).
/// </summary>
public sealed class BesselBatchNorm : PlainBatchNorm
{
    public override string Name => "plain-bessel-bug";

    protected override double VarianceDivisor(int m) => m - 1;
}
