using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace BatchNorm.Tests.Unit.Probes;

/// <summary>Hand-made .npy files, valid and not, for the probes that read them: written here byte by byte, not by the reader under test.</summary>
internal static class NpyBytes
{
    /// <summary>A version 1.0 .npy file with this header dictionary's descr and shape text, followed by <paramref name="data"/>.</summary>
    public static byte[] File(string descr, string shape, ReadOnlySpan<byte> data)
    {
        string header = $"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var bytes = new byte[10 + header.Length + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header).CopyTo(bytes, 10);
        data.CopyTo(bytes.AsSpan(10 + header.Length));
        return bytes;
    }

    /// <summary>The shape as numpy writes it: (3,) for one dimension.</summary>
    public static string Shape(params long[] dims) =>
        dims.Length == 1 ? $"({dims[0].ToString(CultureInfo.InvariantCulture)},)" : $"({string.Join(", ", dims.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";

    /// <summary>Little-endian float64 values.</summary>
    public static byte[] Float64(IReadOnlyList<double> values)
    {
        var data = new byte[values.Count * 8];
        for (int i = 0; i < values.Count; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(i * 8), values[i]);
        return data;
    }
}
