namespace BatchNorm;

/// <summary>The tensors of an inference-mode forward pass (normalized with the running statistics).</summary>
/// <typeparam name="T">float for kernels under test, double for the reference.</typeparam>
public ref struct ForwardInferenceTensors<T>
{
    /// <summary>Input, N*C*S elements.</summary>
    public required ReadOnlySpan<T> X;

    /// <summary>Scale per channel (C elements), or empty for 1.</summary>
    public ReadOnlySpan<T> Gamma;

    /// <summary>Shift per channel (C elements), or empty for 0.</summary>
    public ReadOnlySpan<T> Beta;

    /// <summary>Running mean per channel (C elements).</summary>
    public required ReadOnlySpan<T> RunningMean;

    /// <summary>Running variance per channel (C elements), none negative.</summary>
    public required ReadOnlySpan<T> RunningVariance;

    /// <summary>Output, N*C*S elements; may be the very same span as <see cref="X"/> (in place).</summary>
    public required Span<T> Y;
}
