namespace BatchNorm;

/// <summary>The tensors of an inference-mode backward pass: the running statistics are constants.</summary>
/// <typeparam name="T">float for kernels under test, double for the reference.</typeparam>
public ref struct BackwardInferenceTensors<T>
{
    /// <summary>The forward input, N*C*S elements.</summary>
    public required ReadOnlySpan<T> X;

    /// <summary>Gradient of the loss with respect to y, N*C*S elements.</summary>
    public required ReadOnlySpan<T> Dy;

    /// <summary>Scale per channel (C elements), or empty for 1.</summary>
    public ReadOnlySpan<T> Gamma;

    /// <summary>
    /// Fused ReLU only: the y the forward pass stored (N*C*S elements); dy counts as 0 where y ≤ 0
    /// (ReLU clamped it; a NaN y passes dy, as in PyTorch and oneDNN). Empty for plain batch norm.
    /// </summary>
    public ReadOnlySpan<T> ForwardY;

    /// <summary>Running mean per channel (C elements).</summary>
    public required ReadOnlySpan<T> RunningMean;

    /// <summary>Running variance per channel (C elements), none negative.</summary>
    public required ReadOnlySpan<T> RunningVariance;

    /// <summary>Written: gradient with respect to x; may be the very same span as <see cref="Dy"/> (in place).</summary>
    public required Span<T> Dx;

    /// <summary>Written: gradient with respect to gamma (C elements).</summary>
    public required Span<T> DGamma;

    /// <summary>Written: gradient with respect to beta (C elements).</summary>
    public required Span<T> DBeta;
}
