namespace BatchNorm.Harness;

/// <summary>The verification suites.</summary>
public enum Suite
{
    /// <summary>Every CI run: each edge case once, in small shapes.</summary>
    Quick,

    /// <summary>Before a release: every edge case in both layouts and every pass, the full channel and tail sweeps, larger shapes.</summary>
    Full,
}
