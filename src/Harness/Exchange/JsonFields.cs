using System.Text.Json.Nodes;

namespace BatchNorm.Harness.Exchange;

/// <summary>
/// Typed reads of a JSON object's fields for bnverify's file formats (the export manifest, the case file): each names
/// the file and the field when the field is missing or of another type, so a hand-edited file gets an error it can act on.
/// </summary>
internal static class JsonFields
{
    /// <summary>A field this format does not have is refused by name: a misspelled one ("contarct") would otherwise be ignored, and its value with it.</summary>
    public static void Known(JsonObject node, string[] fields, string path, string where, string format)
    {
        if (node.Select(p => p.Key).FirstOrDefault(k => !fields.Contains(k)) is { } unknown)
            throw new InvalidDataException($"{path}: {where} has a field \"{unknown}\" that {format} does not have; it has {string.Join(", ", fields)}.");
    }

    public static double Number(JsonObject node, string field, string path) =>
        node[field] is JsonValue value && value.TryGetValue(out double number) ? number : throw new InvalidDataException($"{path}: \"{field}\" must be a number.");

    /// <summary>A field added to the format later: a file written before it has none, and means the value it had then.</summary>
    public static string TextOr(JsonObject node, string field, string absent, string path) => node[field] is null ? absent : Text(node, field, path);

    public static string Text(JsonObject node, string field, string path) =>
        node[field] is JsonValue value && value.TryGetValue(out string? text) ? text : throw new InvalidDataException($"{path}: \"{field}\" must be a string.");

    public static int Integer(JsonObject node, string field, string path) =>
        node[field] is JsonValue value && value.TryGetValue(out int number) ? number : throw new InvalidDataException($"{path}: \"{field}\" must be an integer.");

    public static bool Boolean(JsonObject node, string field, string path) =>
        node[field] is JsonValue value && value.TryGetValue(out bool flag) ? flag : throw new InvalidDataException($"{path}: \"{field}\" must be true or false.");
}
