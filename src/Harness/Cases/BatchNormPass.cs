namespace BatchNorm.Harness.Cases;

/// <summary>Which operation a case exercises.</summary>
internal enum BatchNormPass
{
    /// <summary>Training forward with the running-statistics update.</summary>
    ForwardTraining,

    /// <summary>Inference forward from running statistics.</summary>
    ForwardInference,

    /// <summary>Training backward from saved statistics.</summary>
    BackwardTraining,

    /// <summary>Inference backward, running statistics constant.</summary>
    BackwardInference,
}
