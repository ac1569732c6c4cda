using System.Collections;

namespace BatchNorm;

/// <summary>The flat offsets of one channel's values, n-major then s, in either layout.</summary>
public readonly struct ChannelOffsetSequence(TensorShape shape, int channel) : IEnumerable<int>
{
    /// <summary>The allocation-free enumerator <c>foreach</c> uses.</summary>
    public Enumerator GetEnumerator() => new(shape, channel);

    IEnumerator<int> IEnumerable<int>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Walks n = 0..N-1, s = 0..S-1.</summary>
    public struct Enumerator(TensorShape shape, int channel) : IEnumerator<int>
    {
        // Stride between consecutive s, and between consecutive n, for this layout.
        private readonly int sStride = shape.Layout == Layout.ChannelsFirst ? 1 : shape.C;
        private readonly int nStride = shape.Layout == Layout.ChannelsFirst ? shape.C * shape.S : shape.S * shape.C;
        private readonly int origin = shape.Layout == Layout.ChannelsFirst ? channel * shape.S : channel;
        private int n;
        private int s = -1;

        public readonly int Current => origin + (n * nStride) + (s * sStride);

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (++s < shape.S)
                return true;
            s = 0;
            return ++n < shape.N;
        }

        public void Reset() => (n, s) = (0, -1);

        public readonly void Dispose()
        {
        }
    }
}
