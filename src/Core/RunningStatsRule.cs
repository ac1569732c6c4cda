using System.Runtime.CompilerServices;

namespace BatchNorm;

/// <summary>The arithmetic of each <see cref="RunningStatsConvention"/>, in one place for every implementation.</summary>
public static class RunningStatsRule
{
    /// <summary>The convention's default epsilon.</summary>
    public static double DefaultEpsilon(RunningStatsConvention convention) => convention switch
    {
        RunningStatsConvention.PyTorch => 1e-5,
        RunningStatsConvention.Keras => 1e-3,
        RunningStatsConvention.Onnx => 1e-5,
        _ => throw Unknown(convention),
    };

    /// <summary>The convention's default momentum.</summary>
    public static double DefaultMomentum(RunningStatsConvention convention) => convention switch
    {
        RunningStatsConvention.PyTorch => 0.1,
        RunningStatsConvention.Keras => 0.99,
        RunningStatsConvention.Onnx => 0.9,
        _ => throw Unknown(convention),
    };

    /// <summary>True when the running variance takes the unbiased batch variance var*M/(M-1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool UsesUnbiasedVariance(RunningStatsConvention convention) => convention switch
    {
        RunningStatsConvention.PyTorch => true,
        RunningStatsConvention.Keras or RunningStatsConvention.Onnx => false,
        _ => throw Unknown(convention),
    };

    /// <summary>The weight the batch statistic gets: m for PyTorch, 1-m for Keras and ONNX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double BatchWeight(RunningStatsConvention convention, double momentum) =>
        convention == RunningStatsConvention.PyTorch ? momentum : 1.0 - momentum;

    /// <summary>
    /// The new running mean: <c>(1-w)*running + w*batchMean</c> with w = <see cref="BatchWeight"/>,
    /// in double.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double UpdateMean(RunningStatsConvention convention, double momentum, double running, double batchMean)
    {
        double w = BatchWeight(convention, momentum);
        return (1.0 - w) * running + w * batchMean;
    }

    /// <summary>
    /// The new running variance: <c>(1-w)*running + w*v</c>, where v is the biased batch variance,
    /// or var*M/(M-1) for a convention with an unbiased running variance (M must then exceed 1;
    /// validation refuses M = 1 before anything is written).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double UpdateVariance(RunningStatsConvention convention, double momentum, double running, double batchVariance, long m)
    {
        double v = UsesUnbiasedVariance(convention) ? batchVariance * m / (m - 1) : batchVariance;
        double w = BatchWeight(convention, momentum);
        return (1.0 - w) * running + w * v;
    }

    private static ArgumentOutOfRangeException Unknown(RunningStatsConvention convention) =>
        new(nameof(convention), convention, "convention must be PyTorch, Keras or Onnx.");
}
