namespace BatchNorm.Harness.Comparison.ErrorModel;

/// <summary>How one channel's systematic error compares with its bounds.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Coefficients">The fitted coefficients, one per basis function.</param>
/// <param name="Bounds">Each coefficient's bound plus the fit's perturbation bound Δ_k.</param>
/// <param name="Ratio">max_k |coefficient| / bound: 1 or below passes.</param>
internal sealed record ChannelVerdict(int Channel, double[] Coefficients, double[] Bounds, double Ratio);
