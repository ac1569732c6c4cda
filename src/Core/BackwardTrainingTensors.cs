namespace BatchNorm;

/// <summary>
/// The tensors of a training-mode backward pass: the batch statistics depend on x, and are the
/// ones the forward pass saved.
/// </summary>
/// <typeparam name="T">float for kernels under test, double for the reference.</typeparam>
public ref struct BackwardTrainingTensors<T>
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

    /// <summary>The batch mean the forward pass saved (C elements).</summary>
    public required ReadOnlySpan<T> SavedMean;

    /// <summary>The 1/sqrt(var + eps) the forward pass saved (C elements).</summary>
    public required ReadOnlySpan<T> SavedInvStd;

    /// <summary>Written: gradient with respect to x; may be the very same span as <see cref="Dy"/> (in place).</summary>
    public required Span<T> Dx;

    /// <summary>Written: gradient with respect to gamma (C elements).</summary>
    public required Span<T> DGamma;

    /// <summary>Written: gradient with respect to beta (C elements).</summary>
    public required Span<T> DBeta;
}
