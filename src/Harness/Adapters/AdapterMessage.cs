using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace BatchNorm.Harness.Adapters;

/// <summary>
/// One message of the adapter protocol (docs/adapter-protocol.md): a header, one line of UTF-8 JSON ending in '\n',
/// whose "tensors" array lists each payload as {"name", "bytes"}; then the payloads, each a whole .npy file of that
/// many bytes, in the order listed.
/// </summary>
/// <param name="Header">The JSON object of the first line, without its "tensors" field.</param>
/// <param name="Tensors">The payloads by name, in order.</param>
internal sealed record AdapterMessage(JsonObject Header, IReadOnlyList<(string Name, byte[] Npy)> Tensors)
{
    /// <summary>The longest header line accepted: a header is a few hundred bytes; anything longer is not this protocol.</summary>
    public const int MaxHeaderBytes = 1 << 20;

    public void WriteTo(Stream stream)
    {
        var header = (JsonObject)Header.DeepClone();
        header["tensors"] = new JsonArray([.. Tensors.Select(t => (JsonNode)new JsonObject { ["name"] = t.Name, ["bytes"] = t.Npy.Length })]);
        stream.Write(Encoding.UTF8.GetBytes(header.ToJsonString() + "\n"));
        foreach (var (_, npy) in Tensors)
            stream.Write(npy);
        stream.Flush();
    }

    /// <summary>Reads one message; null at the end of the stream before its first byte.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a message: the text says which rule they broke.</exception>
    public static AdapterMessage? ReadFrom(Stream stream)
    {
        var line = new List<byte>();
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
                return line.Count == 0 ? null : throw new InvalidDataException("the stream ended inside a header line");
            if (b == '\n')
                break;
            if (line.Count >= MaxHeaderBytes)
                throw new InvalidDataException($"a header line longer than {MaxHeaderBytes} bytes");
            line.Add((byte)b);
        }

        string text = Encoding.UTF8.GetString([.. line]);
        if (Parse(text) is not JsonObject header)
            throw new InvalidDataException($"the header is not a JSON object: {Excerpt(text)}");
        var tensors = new List<(string, byte[])>();
        if (header["tensors"] is { } listed)
        {
            if (listed is not JsonArray array)
                throw new InvalidDataException($"\"tensors\" is not an array: {Excerpt(text)}");
            foreach (var entry in array)
            {
                if (entry is not JsonObject { } t || t["name"]?.GetValueKind() != System.Text.Json.JsonValueKind.String
                    || t["bytes"]?.GetValueKind() != System.Text.Json.JsonValueKind.Number || !long.TryParse(t["bytes"]!.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out long bytes)
                    || bytes > Npy.NpyArray.MaxFileBytes)
                {
                    throw new InvalidDataException($"a \"tensors\" entry is not {{\"name\": string, \"bytes\": a count up to {Npy.NpyArray.MaxFileBytes}}}: {Excerpt(text)}");
                }

                var payload = new byte[bytes];
                stream.ReadExactly(payload);
                tensors.Add((t["name"]!.GetValue<string>(), payload));
            }

            header.Remove("tensors");
        }

        return new AdapterMessage(header, tensors);
    }

    private static JsonNode? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The start of a line that broke the protocol, for the error message.</summary>
    public static string Excerpt(string text) => text.Length <= 120 ? text : text[..120] + "...";
}
