namespace BatchNorm;

/// <summary>
/// The framework whose running-statistics rule a training step follows. They differ in what
/// momentum means, in their defaults, and in whether the running variance is unbiased.
/// </summary>
public enum RunningStatsConvention
{
    /// <summary>
    /// <c>run = (1-m)*run + m*batch</c>, eps 1e-5, momentum 0.1; the running variance takes the
    /// unbiased batch variance var*M/(M-1), so M = 1 is refused.
    /// </summary>
    PyTorch,

    /// <summary><c>run = m*run + (1-m)*batch</c>, eps 1e-3, momentum 0.99; biased running variance.</summary>
    Keras,

    /// <summary>ONNX BatchNormalization-15: <c>run = m*run + (1-m)*batch</c>, eps 1e-5, momentum 0.9; biased (population) running variance.</summary>
    Onnx,
}
