using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchNorm.Harness.Verification;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The run guards' buffer on its own: an output starts as NaN, and a write on either side of the span is named with
/// how far out it reached (before the start: how many elements from the furthest one written; past the end: the
/// furthest element). The zoo's faulty kernels reach it through a whole case; these reach every distance.
/// </summary>
public class GuardedBufferTests
{
    private const int Length = 10;

    /// <summary>Writes <paramref name="value"/> at <paramref name="offset"/> from the span's start, inside the canaries when outside the span.</summary>
    private static void WriteAt(GuardedBuffer buffer, int offset, float value) =>
        Unsafe.Add(ref MemoryMarshal.GetReference(buffer.Data), offset) = value;

    [Fact]
    public void AnOutputStartsAsNaNAndAnInputAsItsValues()
    {
        var output = GuardedBuffer.Output(Length);
        Assert.Equal(Length, output.Length);
        Assert.All(output.ToArray(), v => Assert.True(float.IsNaN(v)));
        float[] values = [.. Enumerable.Range(1, Length).Select(i => (float)i)];
        Assert.Equal(values, GuardedBuffer.Of(values).ToArray());
        Assert.Null(output.CanaryViolation("y"));
    }

    [Theory]
    [InlineData(-1, "y: wrote 1 element(s) before the start of the span")]
    [InlineData(-3, "y: wrote 3 element(s) before the start of the span")]
    [InlineData(-GuardedBuffer.Pad, "y: wrote 32 element(s) before the start of the span")]
    [InlineData(Length, "y: wrote at element 10 past the end (length 10)")]
    [InlineData(Length + 4, "y: wrote at element 14 past the end (length 10)")]
    [InlineData(Length + GuardedBuffer.Pad - 1, "y: wrote at element 41 past the end (length 10)")]
    public void AWriteOutsideTheSpanIsNamedWithHowFarItReached(int offset, string message)
    {
        var buffer = GuardedBuffer.Output(Length);
        WriteAt(buffer, offset, 0f);
        Assert.Equal(message, buffer.CanaryViolation("y"));
    }

    [Fact]
    public void WritesInsideTheSpanAreNoViolationAndTheFurthestOutsideIsNamed()
    {
        var buffer = GuardedBuffer.Output(Length);
        for (int i = 0; i < Length; i++)
            WriteAt(buffer, i, i);
        Assert.Null(buffer.CanaryViolation("y"));
        WriteAt(buffer, Length + 1, 0f);
        WriteAt(buffer, Length + 6, 0f);
        Assert.Equal("y: wrote at element 16 past the end (length 10)", buffer.CanaryViolation("y"));
        WriteAt(buffer, -2, 0f);
        Assert.Equal("y: wrote 2 element(s) before the start of the span", buffer.CanaryViolation("y"));
    }
}
