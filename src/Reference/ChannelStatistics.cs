namespace BatchNorm.Reference;

/// <summary>The mean and biased variance of one channel.</summary>
/// <param name="Mean">(1/M) * sum x.</param>
/// <param name="Variance">(1/M) * sum (x - mean)^2: the biased (population) variance, normalizer M.</param>
internal readonly record struct ChannelStatistics(double Mean, double Variance)
{
    /// <summary>
    /// Channel c's statistics by the corrected two-pass algorithm (Chan, Golub and LeVeque 1983)
    /// with compensated sums in double:
    /// mean = sum(x)/M, then var = (sum d^2 - (sum d)^2/M) / M with d = x - mean.
    /// The correction term removes, to first order, the error of the computed mean, so the
    /// variance's relative error is a few units of 2^-53 however large the mean is next to the
    /// spread (never the one-pass E[x^2] - E[x]^2, which cancels catastrophically there).
    /// A NaN or infinity among the values makes both NaN (the mean stays infinite for
    /// infinities of one sign); a channel of one value has variance exactly 0.
    /// </summary>
    public static ChannelStatistics Of(ReadOnlySpan<double> x, in TensorShape shape, int c)
    {
        var sum = new CompensatedSum();
        foreach (int i in shape.ChannelOffsets(c))
            sum.Add(x[i]);
        double mean = sum.Value / shape.M;

        var deviations = new CompensatedSum();
        var squares = new CompensatedSum();
        foreach (int i in shape.ChannelOffsets(c))
        {
            double d = x[i] - mean;
            deviations.Add(d);
            squares.Add(d * d);
        }

        double correction = deviations.Value * deviations.Value / shape.M;
        return new ChannelStatistics(mean, (squares.Value - correction) / shape.M);
    }
}
