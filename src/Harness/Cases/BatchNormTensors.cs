namespace BatchNorm.Harness.Cases;

/// <summary>The tensors a pass reads. One closed set, shared by the kernel run, the reference and <c>compare</c>.</summary>
internal enum BatchNormInput
{
    X,
    Gamma,
    Beta,
    RunningMean,
    RunningVariance,
    Dy,
    SavedMean,
    SavedInvStd,

    /// <summary>Fused-ReLU backward only: the y the forward pass stored, whose sign gates dy.</summary>
    ForwardY,
}

/// <summary>The tensors a pass writes. One closed set, shared by the expected outputs, the kernel run, the reports and <c>compare</c>.</summary>
internal enum BatchNormOutput
{
    Y,
    BatchMean,
    BatchVariance,
    BatchInvStd,

    /// <summary>The running mean after a training step's update.</summary>
    RunningMean,

    /// <summary>The running variance after a training step's update.</summary>
    RunningVariance,
    Dx,
    DGamma,
    DBeta,
}

/// <summary>Names as reports, baselines and messages print them, and which outputs each pass writes.</summary>
internal static class BatchNormTensors
{
    public static string Name(this BatchNormInput input) => input switch
    {
        BatchNormInput.X => "x",
        BatchNormInput.Gamma => "gamma",
        BatchNormInput.Beta => "beta",
        BatchNormInput.RunningMean => "runningMean",
        BatchNormInput.RunningVariance => "runningVariance",
        BatchNormInput.Dy => "dy",
        BatchNormInput.SavedMean => "savedMean",
        BatchNormInput.SavedInvStd => "savedInvStd",
        BatchNormInput.ForwardY => "forwardY",
        _ => throw new ArgumentOutOfRangeException(nameof(input), input, "not a batch norm input"),
    };

    public static string Name(this BatchNormOutput output) => output switch
    {
        BatchNormOutput.Y => "y",
        BatchNormOutput.BatchMean => "batchMean",
        BatchNormOutput.BatchVariance => "batchVariance",
        BatchNormOutput.BatchInvStd => "batchInvStd",
        BatchNormOutput.RunningMean => "runningMean",
        BatchNormOutput.RunningVariance => "runningVariance",
        BatchNormOutput.Dx => "dx",
        BatchNormOutput.DGamma => "dgamma",
        BatchNormOutput.DBeta => "dbeta",
        _ => throw new ArgumentOutOfRangeException(nameof(output), output, "not a batch norm output"),
    };

    /// <summary>The .npy file stem an exported suite gives the input (<c>bnverify export</c>): snake case, as compare's flags.</summary>
    public static string FileStem(this BatchNormInput input) => input switch
    {
        BatchNormInput.X => "x",
        BatchNormInput.Gamma => "gamma",
        BatchNormInput.Beta => "beta",
        BatchNormInput.RunningMean => "running_mean",
        BatchNormInput.RunningVariance => "running_var",
        BatchNormInput.Dy => "dy",
        BatchNormInput.SavedMean => "saved_mean",
        BatchNormInput.SavedInvStd => "saved_invstd",
        BatchNormInput.ForwardY => "forward_y",
        _ => throw new ArgumentOutOfRangeException(nameof(input), input, "not a batch norm input"),
    };

    /// <summary>The .npy file stem an exported suite expects the output back under.</summary>
    public static string FileStem(this BatchNormOutput output) => output switch
    {
        BatchNormOutput.Y => "y",
        BatchNormOutput.BatchMean => "batch_mean",
        BatchNormOutput.BatchVariance => "batch_var",
        BatchNormOutput.BatchInvStd => "batch_invstd",
        BatchNormOutput.RunningMean => "running_mean_out",
        BatchNormOutput.RunningVariance => "running_var_out",
        BatchNormOutput.Dx => "dx",
        BatchNormOutput.DGamma => "dgamma",
        BatchNormOutput.DBeta => "dbeta",
        _ => throw new ArgumentOutOfRangeException(nameof(output), output, "not a batch norm output"),
    };

    /// <summary>The inputs a pass reads, given which optional ones the case has and its activation.</summary>
    public static IReadOnlyList<BatchNormInput> InputsOf(BatchNormPass pass, bool withGamma, bool withBeta, bool withRunningStats, bool withSavedStatistics,
        Activation activation)
    {
        var inputs = new List<BatchNormInput> { BatchNormInput.X };
        if (pass is BatchNormPass.BackwardTraining or BatchNormPass.BackwardInference)
            inputs.Add(BatchNormInput.Dy);
        if (withGamma)
            inputs.Add(BatchNormInput.Gamma);
        if (withBeta && pass is BatchNormPass.ForwardTraining or BatchNormPass.ForwardInference)
            inputs.Add(BatchNormInput.Beta);
        if (pass is BatchNormPass.ForwardInference or BatchNormPass.BackwardInference || (pass == BatchNormPass.ForwardTraining && withRunningStats))
            inputs.AddRange([BatchNormInput.RunningMean, BatchNormInput.RunningVariance]);
        if (pass == BatchNormPass.BackwardTraining && withSavedStatistics)
            inputs.AddRange([BatchNormInput.SavedMean, BatchNormInput.SavedInvStd]);
        if (activation == Activation.Relu && pass is BatchNormPass.BackwardTraining or BatchNormPass.BackwardInference)
            inputs.Add(BatchNormInput.ForwardY);
        return inputs;
    }

    /// <summary>The output of that printed name.</summary>
    /// <exception cref="ArgumentException">No output has that name.</exception>
    public static BatchNormOutput ParseOutput(string name) =>
        Enum.GetValues<BatchNormOutput>().Where(o => o.Name() == name).Select(o => (BatchNormOutput?)o).FirstOrDefault()
        ?? throw new ArgumentException($"'{name}' is not an output; outputs are {string.Join(", ", Enum.GetValues<BatchNormOutput>().Select(o => o.Name()))}.", nameof(name));

    /// <summary>True for inputs shaped as x (x, dy, forwardY), false for per-channel ones.</summary>
    public static bool IsElementwise(this BatchNormInput input) => input switch
    {
        BatchNormInput.X or BatchNormInput.Dy or BatchNormInput.ForwardY => true,
        BatchNormInput.Gamma or BatchNormInput.Beta or BatchNormInput.RunningMean or BatchNormInput.RunningVariance or BatchNormInput.SavedMean
            or BatchNormInput.SavedInvStd => false,
        _ => throw new ArgumentOutOfRangeException(nameof(input), input, "not a batch norm input"),
    };

    /// <summary>True for outputs shaped as x (one value per element), false for per-channel ones.</summary>
    public static bool IsElementwise(this BatchNormOutput output) => output switch
    {
        BatchNormOutput.Y or BatchNormOutput.Dx => true,
        BatchNormOutput.BatchMean or BatchNormOutput.BatchVariance or BatchNormOutput.BatchInvStd or BatchNormOutput.RunningMean
            or BatchNormOutput.RunningVariance or BatchNormOutput.DGamma or BatchNormOutput.DBeta => false,
        _ => throw new ArgumentOutOfRangeException(nameof(output), output, "not a batch norm output"),
    };

    /// <summary>The outputs a pass writes, in report order.</summary>
    public static IReadOnlyList<BatchNormOutput> OutputsOf(BatchNormPass pass, bool withRunningStats) => pass switch
    {
        BatchNormPass.ForwardTraining => withRunningStats
            ? [BatchNormOutput.Y, BatchNormOutput.BatchMean, BatchNormOutput.BatchVariance, BatchNormOutput.BatchInvStd, BatchNormOutput.RunningMean, BatchNormOutput.RunningVariance]
            : [BatchNormOutput.Y, BatchNormOutput.BatchMean, BatchNormOutput.BatchVariance, BatchNormOutput.BatchInvStd],
        BatchNormPass.ForwardInference => [BatchNormOutput.Y],
        BatchNormPass.BackwardTraining or BatchNormPass.BackwardInference => [BatchNormOutput.Dx, BatchNormOutput.DGamma, BatchNormOutput.DBeta],
        _ => throw new ArgumentOutOfRangeException(nameof(pass), pass, "not a batch norm pass"),
    };
}
