namespace BatchNorm;

/// <summary>The scalar settings of a batch norm call.</summary>
/// <param name="Convention">Which framework's running-statistics rule to follow.</param>
/// <param name="Epsilon">Added to the variance under the square root; must be finite and positive.</param>
/// <param name="Momentum">The convention's momentum, in [0, 1].</param>
public sealed record BatchNormOptions(RunningStatsConvention Convention, double Epsilon, double Momentum)
{
    /// <summary>What the forward passes apply before storing y (<see cref="Activation.None"/> unless set with <c>with</c>).</summary>
    public Activation Activation { get; init; } = Activation.None;

    /// <summary>The convention's own defaults for epsilon and momentum.</summary>
    public static BatchNormOptions For(RunningStatsConvention convention) =>
        new(convention, RunningStatsRule.DefaultEpsilon(convention), RunningStatsRule.DefaultMomentum(convention));

    /// <summary>PyTorch's defaults: eps 1e-5, momentum 0.1.</summary>
    public static BatchNormOptions PyTorch { get; } = For(RunningStatsConvention.PyTorch);
}
