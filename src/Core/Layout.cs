namespace BatchNorm;

/// <summary>How the (n, c, s) elements of a tensor are laid out in memory.</summary>
public enum Layout
{
    /// <summary>NCHW: element (n, c, s) at <c>(n*C + c)*S + s</c>; PyTorch's default.</summary>
    ChannelsFirst,

    /// <summary>NHWC: element (n, c, s) at <c>(n*S + s)*C + c</c>; Keras' default and oneDNN's fast path.</summary>
    ChannelsLast,
}
