namespace BatchNorm.Harness.Detectors;

/// <summary>The kinds of bug a detector names (docs/bug-classes.md, "Diagnosis").</summary>
internal enum BugKind
{
    /// <summary>The last elements of contiguous runs: a vector loop's remainder.</summary>
    Tail,

    /// <summary>Every k-th element wrong: a store or load with the wrong stride.</summary>
    Stride,

    /// <summary>Values displaced along memory order: an offset off by k.</summary>
    Shift,

    /// <summary>Elements never written, or holding a value that belongs elsewhere (an input, 0, beta, a neighbouring channel's value).</summary>
    StaleValue,

    /// <summary>A sample, channel or run negated or scaled by a constant.</summary>
    SignOrScale,

    /// <summary>A fused ReLU's gate taken from the wrong tensor or with the wrong comparison.</summary>
    Gate,

    /// <summary>A reduced-precision store rounded the wrong way.</summary>
    RoundingDirection,

    /// <summary>A per-channel sum short of one sample's contribution.</summary>
    MissingTerm,

    /// <summary>A statistic computed by a known wrong formula.</summary>
    Formula,
}

/// <summary>A detector's reading of the damage: the kind, the line the report prints, and how many damaged elements it explains.</summary>
internal sealed record BugFinding(BugKind Kind, string Line, int Explained);
