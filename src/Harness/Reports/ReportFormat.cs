using System.Globalization;

namespace BatchNorm.Harness.Reports;

/// <summary>Number formatting for every report: invariant culture, and round-trip where a value is data.</summary>
internal static class ReportFormat
{
    /// <summary>Shortest string that parses back to the same double.</summary>
    public static string RoundTrip(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Shortest string that parses back to the same float.</summary>
    public static string RoundTrip(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Three significant digits, for tables read by people.</summary>
    public static string Short(double value) =>
        double.IsPositiveInfinity(value) ? "inf" : value.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>Three significant digits, or "-" where the figure does not apply.</summary>
    public static string Optional(double? value) => value is { } v ? Short(v) : "-";

    /// <summary>
    /// An error-to-bound ratio in three significant digits, except that a ratio on one side of 1 is never shown on the
    /// other or as 1 when it is not (0.9996 is "0.9996" and 1.0004 is "1.0004", not "1"): 1 or below passes, and the text
    /// must not contradict the verdict.
    /// </summary>
    public static string Ratio(double ratio)
    {
        string text = Short(ratio);
        for (int digits = 4; digits <= 17 && double.IsFinite(ratio) && ContradictsVerdict(ratio, double.Parse(text, CultureInfo.InvariantCulture)); digits++)
            text = ratio.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return text;

        static bool ContradictsVerdict(double ratio, double shown) => (ratio < 1 && shown >= 1) || (ratio > 1 && shown <= 1);
    }

    /// <summary>As <see cref="Ratio"/>, or "-" where the figure does not apply.</summary>
    public static string OptionalRatio(double? ratio) => ratio is { } r ? Ratio(r) : "-";

    /// <summary>An ULP count, "nan" when a NaN was involved.</summary>
    public static string Ulps(long ulps) => ulps == long.MaxValue ? "nan" : ulps.ToString(CultureInfo.InvariantCulture);
}
