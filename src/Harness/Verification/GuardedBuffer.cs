namespace BatchNorm.Harness.Verification;

/// <summary>
/// A tensor with canary floats on both sides, so a kernel that writes outside its span is caught,
/// and a kernel that reads outside it reads NaN-payload canaries (which poison its results).
/// </summary>
internal sealed class GuardedBuffer
{
    /// <summary>Canary floats on each side: more than a 512-bit vector.</summary>
    public const int Pad = 32;

    /// <summary>
    /// A quiet NaN with a recognizable payload. It is written and compared only as an integer:
    /// a float constant can pass through the JIT as a double, which quiets a signaling NaN and
    /// changes its bits (seen here once tiered compilation optimized the fill).
    /// </summary>
    public const int CanaryBits = 0x7FE5_A5A5;

    private readonly float[] storage;

    private GuardedBuffer(int length)
    {
        Length = length;
        storage = new float[length + 2 * Pad];
        System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(storage.AsSpan()).Fill(CanaryBits);
    }

    public int Length { get; }

    public Span<float> Data => storage.AsSpan(Pad, Length);

    public static GuardedBuffer Of(float[] values)
    {
        var buffer = new GuardedBuffer(values.Length);
        values.CopyTo(buffer.Data);
        return buffer;
    }

    /// <summary>An output, prefilled with the canary NaN (like its guards) so an element the kernel never writes cannot pass.</summary>
    public static GuardedBuffer Output(int length) => new(length);

    public float[] ToArray() => Data.ToArray();

    /// <summary>null when both canary regions are intact, else what was overwritten.</summary>
    public string? CanaryViolation(string name)
    {
        for (int i = 0; i < Pad; i++)
        {
            if (BitConverter.SingleToInt32Bits(storage[i]) != CanaryBits)
                return $"{name}: wrote {Pad - i} element(s) before the start of the span";
        }

        for (int i = storage.Length - 1; i >= Pad + Length; i--)
        {
            if (BitConverter.SingleToInt32Bits(storage[i]) != CanaryBits)
                return $"{name}: wrote at element {i - Pad} past the end (length {Length})";
        }

        return null;
    }
}
