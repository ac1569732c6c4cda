using System.Globalization;

namespace BatchNorm;

/// <summary>
/// A tensor of <see cref="N"/> samples, <see cref="C"/> channels and <see cref="S"/> spatial
/// positions (S is the product of all spatial extents; S = 1 for a dense layer's (N, C) output).
/// Statistics are per channel, over <see cref="M"/> = N*S values.
/// </summary>
/// <remarks>
/// Tensors are passed as spans, whose length is an <see cref="int"/>, so the element count is
/// limited to <see cref="Array.MaxLength"/>. Offsets are computed in <see cref="long"/> all the same,
/// so no product of indices can overflow before that check.
/// </remarks>
public readonly record struct TensorShape
{
    /// <summary>Creates a shape; every extent must be positive and N*C*S at most <see cref="Array.MaxLength"/>.</summary>
    public TensorShape(int n, int c, int s, Layout layout)
    {
        RequirePositive(n, nameof(n));
        RequirePositive(c, nameof(c));
        RequirePositive(s, nameof(s));
        if (!Enum.IsDefined(layout))
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "layout must be ChannelsFirst or ChannelsLast.");
        long count = (long)n * c * s;
        if (count > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(n), string.Create(CultureInfo.InvariantCulture,
                $"N*C*S = {n}*{c}*{s} = {count} elements exceeds the largest span, {Array.MaxLength} elements."));
        }

        N = n;
        C = c;
        S = s;
        Layout = layout;
    }

    /// <summary>Number of samples.</summary>
    public int N { get; }

    /// <summary>Number of channels.</summary>
    public int C { get; }

    /// <summary>Number of spatial positions per sample and channel.</summary>
    public int S { get; }

    /// <summary>Memory layout.</summary>
    public Layout Layout { get; }

    /// <summary>Values per channel: N*S.</summary>
    public int M => N * S;

    /// <summary>Total number of elements: N*C*S.</summary>
    public int ElementCount => N * C * S;

    /// <summary>Offset of element (n, c, s) in the flat tensor.</summary>
    public long IndexOf(int n, int c, int s) => Layout == Layout.ChannelsFirst
        ? (((long)n * C) + c) * S + s
        : (((long)n * S) + s) * C + c;

    /// <summary>The (n, c, s) coordinates of a flat offset; the inverse of <see cref="IndexOf"/>.</summary>
    public (int N, int C, int S) CoordinatesOf(long index)
    {
        if (Layout == Layout.ChannelsFirst)
        {
            long nc = Math.DivRem(index, S, out long s);
            long n = Math.DivRem(nc, C, out long c);
            return ((int)n, (int)c, (int)s);
        }
        else
        {
            long ns = Math.DivRem(index, C, out long c);
            long n = Math.DivRem(ns, S, out long s);
            return ((int)n, (int)c, (int)s);
        }
    }

    /// <summary>
    /// The offsets of channel c's M values in logical order (n, then s), the same order in both
    /// layouts, so that a computation over them gives bitwise the same result in either layout.
    /// A struct sequence: <c>foreach</c> over it allocates nothing.
    /// </summary>
    public ChannelOffsetSequence ChannelOffsets(int c) => new(this, c);

    /// <summary>The same extents in the other layout.</summary>
    public TensorShape WithLayout(Layout layout) => new(N, C, S, layout);

    /// <summary>"NxCxS layout", e.g. "2x3x4 channels-first".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{N}x{C}x{S} {(Layout == Layout.ChannelsFirst ? "channels-first" : "channels-last")}");

    private static void RequirePositive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
    }
}
