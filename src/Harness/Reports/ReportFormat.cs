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

    /// <summary>An ULP count, "nan" when a NaN was involved.</summary>
    public static string Ulps(long ulps) => ulps == long.MaxValue ? "nan" : ulps.ToString(CultureInfo.InvariantCulture);
}
