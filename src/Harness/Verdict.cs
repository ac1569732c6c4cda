namespace BatchNorm.Harness;

/// <summary>The verdict of one case.</summary>
public enum Verdict
{
    /// <summary>Every element within its bound, nothing else wrong.</summary>
    Passed,

    /// <summary>Within bounds, but most of the outputs are zeros, so the case proves little.</summary>
    Mistrusted,

    /// <summary>An element over its bound, a non-finite mismatch, a write outside an output, an exception, or nondeterminism.</summary>
    Failed,
}
