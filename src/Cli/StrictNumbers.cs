using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace BatchNorm.Cli;

/// <summary>
/// Numeric options parsed strictly in the invariant culture: digits, an optional sign, decimal
/// point and exponent; no group separators ("1,5" is an error, not 15), no spaces, no hex.
/// </summary>
internal static class StrictNumbers
{
    /// <summary>A double option; <paramref name="rule"/> (e.g. "eps > 0") is checked by <paramref name="valid"/>.</summary>
    public static Option<double?> Double(string name, string description, Func<double, bool> valid, string rule) =>
        new(name)
        {
            Description = description,
            CustomParser = result =>
            {
                string token = Token(result);
                if (!double.TryParse(token, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double value))
                {
                    result.AddError($"{name} {token}: not a number (write it like 1e-5 or 0.001: invariant culture, no group separators).");
                    return null;
                }

                if (!valid(value))
                    result.AddError($"{name} {token}: must satisfy {rule}.");
                return value;
            },
        };

    /// <summary>An int option in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="rule"/> says what the values mean.</summary>
    public static Option<int> Int(string name, string description, int min, int max, int defaultValue, string? rule = null) =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string token = Token(result);
                if (!int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                {
                    result.AddError($"{name} {token}: not an integer.");
                    return defaultValue;
                }

                if (value < min || value > max)
                    result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} {token}: must be {rule ?? $"from {min} to {max}"}."));
                return value;
            },
        };

    private static string Token(ArgumentResult result) => result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
}
