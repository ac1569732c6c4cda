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
    /// An error-to-bound ratio in three significant digits, except that a ratio below 1 is never shown as 1 (0.9996 is
    /// "0.9996", not "1"): the figure's side of 1 is the verdict, and the text must not contradict it.
    /// </summary>
    public static string Ratio(double ratio)
    {
        string text = Short(ratio);
        for (int digits = 4; ratio < 1 && double.Parse(text, CultureInfo.InvariantCulture) >= 1 && digits <= 17; digits++)
            text = ratio.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return text;
    }

    /// <summary>As <see cref="Ratio"/>, or "-" where the figure does not apply.</summary>
    public static string OptionalRatio(double? ratio) => ratio is { } r ? Ratio(r) : "-";

    /// <summary>An ULP count, "nan" when a NaN was involved.</summary>
    public static string Ulps(long ulps) => ulps == long.MaxValue ? "nan" : ulps.ToString(CultureInfo.InvariantCulture);
}
