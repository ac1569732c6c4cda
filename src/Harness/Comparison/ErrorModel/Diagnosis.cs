using System.Globalization;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Reports;

namespace BatchNorm.Harness.Comparison.ErrorModel;

/// <summary>The one-line reading of a channel's systematic error in terms of the quantities a kernel computes once per channel.</summary>
internal static class Diagnosis
{
    /// <summary>
    /// e.g. "systematic, channel 3: equivalent to mean off by -0.0012 (-3 ULP of the mean), istd off
    /// by 0.00098 relative; 60x its bound (the xhat coefficient)".
    /// </summary>
    public static string Systematic(BatchNormOutput output, AffineErrorModel model, ChannelVerdict channel)
    {
        int c = channel.Channel;
        var parts = new List<string>();
        int worst = 0;
        double worstRatio = -1;
        for (int k = 0; k < model.BasisSize; k++)
        {
            var meaning = model.Meanings[k];
            double value = channel.Coefficients[k] * meaning.Factor[c];
            string text = $"{meaning.Equivalent} {ReportFormat.Short(value)}{(meaning.Relative ? " relative" : "")}";
            if (meaning.UlpOf is { } reference)
            {
                double ulp = Math.Abs(MathF.BitIncrement(MathF.Abs((float)reference[c])) - MathF.Abs((float)reference[c]));
                if (ulp > 0 && double.IsFinite(value))
                    text += $" ({ReportFormat.Short(value / ulp)} ULP of {meaning.UlpOfName})";
            }

            parts.Add(text);
            double ratio = Math.Abs(channel.Coefficients[k]) / channel.Bounds[k];
            if (ratio > worstRatio)
                (worst, worstRatio) = (k, ratio);
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"systematic, {output.Name()} channel {c}: equivalent to {string.Join(", ", parts)}; {ReportFormat.Short(channel.Ratio)}x its bound (coefficient of {model.BasisNames[worst]})");
    }
}
