using System.Globalization;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Npy;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Harness.Comparison;

/// <summary>What <c>bnverify compare</c> is given: input and output .npy files and the call's settings.</summary>
internal sealed record ExternalRun
{
    public required BatchNormPass Pass { get; init; }

    public required Layout Layout { get; init; }

    public required BatchNormOptions Options { get; init; }

    /// <summary>Input .npy paths; x is required.</summary>
    public required IReadOnlyDictionary<BatchNormInput, string> Inputs { get; init; }

    /// <summary>Output .npy paths to check; any of the pass's outputs.</summary>
    public required IReadOnlyDictionary<BatchNormOutput, string> Outputs { get; init; }

    /// <summary>The contract the producing kernel declares (<c>compare --contract</c>); default <see cref="NumericalContract.Default"/>.</summary>
    public NumericalContract Contract { get; init; } = NumericalContract.Default;
}

/// <summary>
/// Verifies tensors produced elsewhere (PyTorch, a GPU kernel, another library) against the
/// reference with the same tolerance model as <c>verify</c>. x's .npy shape gives the tensor shape:
/// (N, C, spatial...) channels-first, (N, spatial..., C) channels-last, (N, C) dense.
/// </summary>
internal static class ExternalComparison
{
    /// <summary>Checks every given output against the reference.</summary>
    /// <exception cref="InvalidDataException">A file is unreadable, of an unsupported type, or of the wrong size; an output the pass does not write; no output.</exception>
    public static CaseResult Run(ExternalRun run)
    {
        var (@case, inputs) = Load(run);
        var shape = @case.Shape;
        var produced = BatchNormTensors.OutputsOf(run.Pass, @case.WithRunningStats);
        foreach (var name in run.Outputs.Keys.Where(o => !produced.Contains(o)))
        {
            throw new InvalidDataException($"{Flag(name)}: {name.Name()} is not an output of {run.Pass}{(run.Pass == BatchNormPass.ForwardTraining && !@case.WithRunningStats ? " without running statistics" : "")}; " +
                                           $"it writes {string.Join(", ", produced.Select(o => o.Name()))}.");
        }

        long[] xDims = Read(run, BatchNormInput.X)!.Shape;
        var expected = ExpectedOutputs.Compute(@case, inputs, run.Contract);
        var given = new Dictionary<BatchNormOutput, float[]>();
        foreach (var output in expected)
        {
            if (Read(run, output.Name) is { } actual)
                given[output.Name] = Sized(actual, output.PerChannel ? [shape.C] : xDims, $"{Flag(output.Name)} {run.Outputs[output.Name]}");
        }

        if (given.Count == 0)
            throw new InvalidDataException($"no output to check: give at least one of the {run.Pass} outputs.");
        var comparisons = expected.Where(e => given.ContainsKey(e.Name)).Select(e => OutputComparison.Compare(e, given[e.Name], shape)).ToList();
        return new CaseResult { Case = @case, Kernel = "external", SuiteSeed = 0, Contract = run.Contract, Outputs = Detectors.BugDetectors.Annotate(@case, inputs, expected, comparisons, given) };
    }

    /// <summary>The case and inputs the given files describe, as the reference will see them.</summary>
    /// <exception cref="InvalidDataException">A file is unreadable, of an unsupported type, or of the wrong size; an input the pass needs is missing.</exception>
    public static (VerificationCase Case, CaseInputs Inputs) Load(ExternalRun run)
    {
        RequireConsistentInputs(run);
        var x = Read(run, BatchNormInput.X) ?? throw new InvalidDataException("x is required.");
        var shape = ShapeOf(x.Shape, run.Layout, $"{Flag(BatchNormInput.X)} {run.Inputs[BatchNormInput.X]}");
        int c = shape.C;
        float[] Optional(BatchNormInput name, int length, float[] absent) =>
            Read(run, name) is { } array ? Sized(array, length == c ? [c] : x.Shape, $"{Flag(name)} {run.Inputs[name]}") : absent;
        bool hasRunning = run.Inputs.ContainsKey(BatchNormInput.RunningMean) || run.Inputs.ContainsKey(BatchNormInput.RunningVariance);
        if (run.Pass is BatchNormPass.ForwardInference or BatchNormPass.BackwardInference && !hasRunning)
            throw new InvalidDataException("inference needs --running-mean and --running-var.");

        float[] xs = Narrowed(x, $"{Flag(BatchNormInput.X)} {run.Inputs[BatchNormInput.X]}");
        var @case = new VerificationCase
        {
            Name = "compare",
            Shape = shape,
            Pass = run.Pass,
            Options = run.Options,
            WithRunningStats = run.Pass == BatchNormPass.ForwardTraining && hasRunning,
            WithBeta = run.Inputs.ContainsKey(BatchNormInput.Beta),
            Gamma = run.Inputs.ContainsKey(BatchNormInput.Gamma) ? GammaKind.Random : GammaKind.Absent,
        };
        var inputs = new CaseInputs
        {
            X = xs,
            Gamma = Optional(BatchNormInput.Gamma, c, []),
            Beta = Optional(BatchNormInput.Beta, c, []),
            RunningMean = Optional(BatchNormInput.RunningMean, c, new float[c]),
            RunningVariance = Optional(BatchNormInput.RunningVariance, c, Enumerable.Repeat(1f, c).ToArray()),
            Dy = Optional(BatchNormInput.Dy, shape.ElementCount, new float[shape.ElementCount]),
            SavedMean = Optional(BatchNormInput.SavedMean, c, []),
            SavedInvStd = Optional(BatchNormInput.SavedInvStd, c, []),
        };
        bool ownStatistics = run.Pass == BatchNormPass.BackwardTraining && (inputs.SavedMean.Length == 0 || inputs.SavedInvStd.Length == 0);
        if (ownStatistics)
        {
            // The kernel used saved statistics of its own: the reference takes x's exact ones (it
            // computes them itself) and the bounds admit the kernel's rounding of them.
            @case = @case with { SavedStatisticsFromKernel = true };
        }

        if (run.Pass is BatchNormPass.BackwardTraining or BatchNormPass.BackwardInference && !run.Inputs.ContainsKey(BatchNormInput.Dy))
            throw new InvalidDataException("backward needs --dy.");

        return (@case, inputs);
    }

    /// <summary>
    /// Statistics come in pairs, and dy and the saved statistics only where the pass reads them: a lone
    /// --running-mean would be judged against a running variance of 1, a lone --saved-mean dropped for statistics
    /// of x's own, and a --dy on a forward pass ignored, each a silent mistake.
    /// </summary>
    private static void RequireConsistentInputs(ExternalRun run)
    {
        bool Has(BatchNormInput input) => run.Inputs.ContainsKey(input);
        if (Has(BatchNormInput.RunningMean) != Has(BatchNormInput.RunningVariance))
            throw new InvalidDataException($"--running-mean and --running-var go together: give both or neither (only {(Has(BatchNormInput.RunningMean) ? "--running-mean" : "--running-var")} was given).");
        if (Has(BatchNormInput.SavedMean) != Has(BatchNormInput.SavedInvStd))
            throw new InvalidDataException($"--saved-mean and --saved-invstd go together: give both or neither (only {(Has(BatchNormInput.SavedMean) ? "--saved-mean" : "--saved-invstd")} was given).");
        bool backward = run.Pass is BatchNormPass.BackwardTraining or BatchNormPass.BackwardInference;
        if (!backward && Has(BatchNormInput.Dy))
            throw new InvalidDataException($"--dy: the {run.Pass} pass does not read it (give --pass backward for a backward pass).");
        if (run.Pass != BatchNormPass.BackwardTraining && Has(BatchNormInput.SavedMean))
            throw new InvalidDataException($"--saved-mean and --saved-invstd: only the training backward reads them, not {run.Pass}.");
        // The training backward accepts (and ignores) running statistics and beta: PyTorch's native_batch_norm_backward takes them.
    }

    /// <summary>The tensor shape a .npy shape describes in a layout.</summary>
    public static TensorShape ShapeOf(long[] dims, Layout layout, string name = "x")
    {
        if (dims.Length < 2)
            throw new InvalidDataException($"{name}: must have at least 2 dimensions (N, C, ...), it has shape ({string.Join(", ", dims)}).");
        long n = dims[0];
        long c, s;
        if (dims.Length == 2)
            (c, s) = (dims[1], 1);
        else if (layout == Layout.ChannelsFirst)
            (c, s) = (dims[1], Product(dims[2..]));
        else
            (c, s) = (dims[^1], Product(dims[1..^1]));
        if (n <= 0 || c <= 0 || s <= 0 || n > int.MaxValue || c > int.MaxValue || s > int.MaxValue)
            throw new InvalidDataException($"{name}: shape ({string.Join(", ", dims)}) has an empty or oversized extent.");
        return new TensorShape((int)n, (int)c, (int)s, layout);
    }

    private static long Product(long[] dims) => dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>compare's option for an input: --x, --running-mean, ... (its file stem with '-' for '_').</summary>
    public static string Flag(BatchNormInput input) => "--" + input.FileStem().Replace('_', '-');

    /// <summary>compare's option for an output: --y, --running-mean-out, ...</summary>
    public static string Flag(BatchNormOutput output) => "--" + output.FileStem().Replace('_', '-');

    private static NpyArray? Read(ExternalRun run, BatchNormInput name) => Read(run.Inputs, name, Flag(name));

    private static NpyArray? Read(ExternalRun run, BatchNormOutput name) => Read(run.Outputs, name, Flag(name));

    /// <summary>The array, or null when not given; a file that cannot be read is refused naming the option it was given to.</summary>
    private static NpyArray? Read<TName>(IReadOnlyDictionary<TName, string> paths, TName name, string flag) where TName : notnull
    {
        if (!paths.TryGetValue(name, out string? path))
            return null;
        try
        {
            return NpyArray.Read(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{flag} {e.Message}", e);
        }
    }

    /// <summary>
    /// The values of a tensor whose .npy shape must be exactly <paramref name="dims"/>: x's for a tensor shaped as x
    /// (a permuted or reshaped y with the same element count is a different tensor), (C,) for a per-channel one.
    /// </summary>
    private static float[] Sized(NpyArray array, long[] dims, string name)
    {
        if (!array.Shape.SequenceEqual(dims))
            throw new InvalidDataException($"{name}: has shape ({string.Join(", ", array.Shape)}); it must be ({string.Join(", ", dims)}){(dims.Length == 1 ? "" : ", x's shape")}.");
        return Narrowed(array, name);
    }

    /// <summary>
    /// The values as floats. A float64 file's values must be floats already (what a float32 kernel read): one that
    /// is not (1e39 would become infinity, 0.1 another number) is refused naming the first, not rounded silently.
    /// </summary>
    private static float[] Narrowed(NpyArray array, string name)
    {
        float[] values = array.ToFloat32();
        if (!array.IsFloat64)
            return values;
        for (int i = 0; i < values.Length; i++)
        {
            double v = array.Values[i];
            if (!double.IsNaN(v) && values[i] != v)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{name}: element {i} of the float64 file, {v:R}, is not a float32 value; save what the kernel read, as float32 (numpy's astype(np.float32))."));
        }

        return values;
    }
}
