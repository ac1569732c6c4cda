namespace BatchNorm;

/// <summary>The tensors of a training-mode forward pass.</summary>
/// <typeparam name="T">float for kernels under test, double for the reference.</typeparam>
public ref struct ForwardTrainingTensors<T>
{
    /// <summary>Input, N*C*S elements.</summary>
    public required ReadOnlySpan<T> X;

    /// <summary>Scale per channel (C elements), or empty for 1.</summary>
    public ReadOnlySpan<T> Gamma;

    /// <summary>Shift per channel (C elements), or empty for 0.</summary>
    public ReadOnlySpan<T> Beta;

    /// <summary>Output, N*C*S elements; may be the very same span as <see cref="X"/> (in place).</summary>
    public required Span<T> Y;

    /// <summary>Written: the batch mean per channel.</summary>
    public required Span<T> BatchMean;

    /// <summary>Written: the biased batch variance per channel (normalizer M).</summary>
    public required Span<T> BatchVariance;

    /// <summary>Written: 1/sqrt(batch variance + eps) per channel.</summary>
    public required Span<T> BatchInvStd;

    /// <summary>Updated in place by the convention's rule, or empty (with <see cref="RunningVariance"/>) for no update.</summary>
    public Span<T> RunningMean;

    /// <summary>Updated in place by the convention's rule, or empty (with <see cref="RunningMean"/>) for no update.</summary>
    public Span<T> RunningVariance;
}
