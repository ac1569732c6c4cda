using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace BatchNorm.Harness.Npy;

/// <summary>
/// A NumPy .npy array: little-endian float32 ('&lt;f4') or float64 ('&lt;f8'), C order. Anything
/// else is refused with an <see cref="InvalidDataException"/> that says what the file holds.
/// </summary>
internal sealed partial class NpyArray
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public NpyArray(long[] shape, double[] values, bool isFloat64)
    {
        Shape = shape;
        Values = values;
        IsFloat64 = isFloat64;
    }

    /// <summary>The extents, outermost first; empty for a scalar.</summary>
    public long[] Shape { get; }

    /// <summary>The elements in C order, widened to double (exactly, for float32 files).</summary>
    public double[] Values { get; }

    /// <summary>True for a '&lt;f8' file.</summary>
    public bool IsFloat64 { get; }

    /// <summary>The largest .npy file read: 2 GiB, more than any tensor a kernel's float spans can hold.</summary>
    public const long MaxFileBytes = int.MaxValue;

    /// <summary>Reads a .npy file.</summary>
    /// <exception cref="InvalidDataException">
    /// The path is a directory, a device, FIFO or socket (read only regular files: /dev/zero would never end, a FIFO
    /// may block), larger than <see cref="MaxFileBytes"/>, cannot be read, or does not hold a supported .npy array.
    /// </exception>
    public static NpyArray Read(string path)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: is a directory, not a .npy file.");
        if (File.Exists(path) && !AtomicFile.IsRegularFile(path))
            throw new InvalidDataException($"{path}: is not a regular file (a device, FIFO or socket); give a .npy file.");
        if (File.Exists(path) && new FileInfo(path).Length > MaxFileBytes)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: {new FileInfo(path).Length} bytes is more than the {MaxFileBytes} a .npy input may have."));
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read: {e.Message}", e);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses the bytes of a .npy file; <paramref name="name"/> is used in messages.</summary>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy file (no \\x93NUMPY magic).");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            headerStart = 12;
        }
        else
        {
            throw new InvalidDataException($"{name}: .npy format version {major} is not supported (1, 2 or 3).");
        }

        if (headerStart + headerLength > bytes.Length)
            throw new InvalidDataException($"{name}: header runs past the end of the file.");
        string header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));
        string descr = Field(header, "descr", name);
        string fortran = Field(header, "fortran_order", name);
        if (fortran != "False")
            throw new InvalidDataException($"{name}: fortran_order is {fortran}; only C order is supported (use numpy.ascontiguousarray).");
        bool isFloat64 = descr switch
        {
            "'<f4'" => false,
            "'<f8'" => true,
            _ => throw new InvalidDataException($"{name}: dtype {descr} is not supported; write float32 '<f4' or float64 '<f8' (little-endian)."),
        };
        long[] shape = ParseShape(Field(header, "shape", name), name);
        int size = isFloat64 ? 8 : 4;
        var data = bytes[(headerStart + headerLength)..];
        // Checked, so a shape whose product overflows (2, 3, 2^61 + 1, 8) cannot wrap around to the file's size.
        long count;
        try
        {
            count = checked(shape.Aggregate(1L, (a, b) => a * b) * size) / size;
        }
        catch (OverflowException e)
        {
            throw new InvalidDataException($"{name}: shape ({string.Join(", ", shape)}) needs more than 2^63 data bytes; the file has {data.Length}.", e);
        }

        if (data.Length != count * size)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{name}: shape ({string.Join(", ", shape)}) needs {count * size} data bytes, the file has {data.Length}."));
        double[] values = new double[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = isFloat64
                ? BinaryPrimitives.ReadDoubleLittleEndian(data[(int)(i * 8)..])
                : BinaryPrimitives.ReadSingleLittleEndian(data[(int)(i * 4)..]);
        }

        return new NpyArray(shape, values, isFloat64);
    }

    /// <summary>Writes float32 values with a shape as a version 1.0 .npy file.</summary>
    public static void WriteFloat32(string path, ReadOnlySpan<float> values, params long[] shape) => File.WriteAllBytes(path, EncodeFloat32(values, shape));

    /// <summary>The bytes of a version 1.0 float32 .npy file.</summary>
    public static byte[] EncodeFloat32(ReadOnlySpan<float> values, params long[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        // Pad with spaces so magic + version + length + header + newline is a multiple of 64.
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var bytes = new byte[10 + header.Length + values.Length * 4];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header).CopyTo(bytes, 10);
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(10 + header.Length + i * 4), values[i]);
        return bytes;
    }

    /// <summary>The values as float32; a float64 file's values are rounded to nearest.</summary>
    public float[] ToFloat32() => Array.ConvertAll(Values, v => (float)v);

    private static string Field(string header, string key, string name)
    {
        var match = Regex.Match(header, $"'{key}'\\s*:\\s*('[^']*'|\\([^)]*\\)|True|False)");
        if (!match.Success)
            throw new InvalidDataException($"{name}: header has no '{key}': {header.Trim()}");
        return match.Groups[1].Value;
    }

    private static long[] ParseShape(string tuple, string name)
    {
        string inner = tuple.Trim('(', ')');
        try
        {
            return inner.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(d => long.Parse(d, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException($"{name}: shape {tuple} is not a tuple of non-negative integers below 2^63.", e);
        }
    }
}
