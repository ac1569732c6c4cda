namespace BatchNorm.Harness.Comparison;

/// <summary>
/// How one output's elements are spread over error/bound and over magnitude: a count per decade of the element's
/// error-to-bound ratio (its residual over the residual bound where the output has a structured model) and per decade
/// of |expected| relative to the output's largest finite |expected|. Fixed bins, so it costs a few comparisons per
/// element and O(1) memory per output, and histograms of many cases add up. Counts are exact integers.
/// </summary>
internal sealed class ErrorHistogram
{
    /// <summary>
    /// The upper edges of the passing ratio bins after "exact": below 1e-6, then one decade each up to [0.1, 1]. An
    /// element fails when its ratio exceeds 1 (as the verdict has it, 1 itself passes): (1, 10), then 10 and above,
    /// infinity and NaN included.
    /// </summary>
    private static readonly double[] RatioEdges = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1];

    /// <summary>The lower edges of the magnitude bins after "zero", as fractions of the output's scale: [0.1, 1], [0.01, 0.1), ... [1e-6, 1e-5); then below 1e-6.</summary>
    private static readonly double[] MagnitudeEdges = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6];

    /// <summary>Bin labels along the ratio axis, first "0" (no error at all).</summary>
    public static readonly string[] RatioLabels = ["0", "<1e-6", "1e-6", "1e-5", "1e-4", "1e-3", "0.01", "0.1", ">1", ">=10"];

    /// <summary>Bin labels along the magnitude axis (|expected| / the output's largest finite |expected|), first "0", last "not finite".</summary>
    public static readonly string[] MagnitudeLabels = ["0", "0.1-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "<1e-6", "not finite"];

    /// <summary>Index of the first ratio bin that fails (error/bound above 1).</summary>
    public const int FirstFailingRatioBin = 8;

    private readonly long[,] counts = new long[MagnitudeLabels.Length, RatioLabels.Length];

    /// <summary>Counts by [magnitude bin, ratio bin].</summary>
    public long this[int magnitudeBin, int ratioBin] => counts[magnitudeBin, ratioBin];

    /// <summary>Elements counted.</summary>
    public long Total { get; private set; }

    /// <summary>Counts one element. A NaN ratio is counted as failing (a comparison fails closed); a NaN or infinite expected value goes to "not finite".</summary>
    public void Add(double ratio, double expected, double scale)
    {
        counts[MagnitudeBin(expected, scale), RatioBin(ratio)]++;
        Total++;
    }

    /// <summary>The counts per ratio bin, over every magnitude.</summary>
    public long[] ByRatio()
    {
        long[] sums = new long[RatioLabels.Length];
        for (int m = 0; m < MagnitudeLabels.Length; m++)
        {
            for (int r = 0; r < RatioLabels.Length; r++)
                sums[r] += counts[m, r];
        }

        return sums;
    }

    /// <summary>The sum of several histograms (each output's over every case); an empty one for no input.</summary>
    public static ErrorHistogram Sum(IEnumerable<ErrorHistogram> histograms)
    {
        var sum = new ErrorHistogram();
        foreach (var h in histograms)
        {
            for (int m = 0; m < MagnitudeLabels.Length; m++)
            {
                for (int r = 0; r < RatioLabels.Length; r++)
                    sum.counts[m, r] += h.counts[m, r];
            }

            sum.Total += h.Total;
        }

        return sum;
    }

    internal static int RatioBin(double ratio)
    {
        if (ratio == 0)
            return 0;
        if (!(ratio <= 1))
            return ratio < 10 ? FirstFailingRatioBin : FirstFailingRatioBin + 1;
        for (int k = 0; k < RatioEdges.Length; k++)
        {
            if (ratio < RatioEdges[k])
                return k + 1;
        }

        return FirstFailingRatioBin - 1;
    }

    internal static int MagnitudeBin(double expected, double scale)
    {
        if (!double.IsFinite(expected))
            return MagnitudeLabels.Length - 1;
        if (expected == 0)
            return 0;
        double relative = Math.Abs(expected) / scale;
        for (int k = 0; k < MagnitudeEdges.Length; k++)
        {
            if (relative >= MagnitudeEdges[k])
                return k + 1;
        }

        return MagnitudeEdges.Length + 1;
    }
}
