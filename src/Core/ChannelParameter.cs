namespace BatchNorm;

/// <summary>Reads an optional per-channel parameter (gamma or beta).</summary>
public static class ChannelParameter
{
    /// <summary>gamma[c], or 1 when gamma is empty (no scale).</summary>
    public static T ScaleAt<T>(ReadOnlySpan<T> gamma, int c) where T : System.Numerics.INumberBase<T> =>
        gamma.IsEmpty ? T.One : gamma[c];

    /// <summary>beta[c], or 0 when beta is empty (no shift).</summary>
    public static T ShiftAt<T>(ReadOnlySpan<T> beta, int c) where T : System.Numerics.INumberBase<T> =>
        beta.IsEmpty ? T.Zero : beta[c];
}
