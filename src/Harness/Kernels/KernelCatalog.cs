using BatchNorm.Optimized;

namespace BatchNorm.Harness.Kernels;

/// <summary>The kernels <c>bnverify</c> knows by name.</summary>
internal static class KernelCatalog
{
    /// <summary>The widths an optimized-WIDTH kernel can be forced to, widest first.</summary>
    private static readonly VectorWidth[] ForcedWidths = [VectorWidth.Bits512, VectorWidth.Bits256, VectorWidth.Bits128, VectorWidth.Scalar];

    /// <summary>Every name <see cref="Create"/> accepts on this machine, in listing order.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            var names = new List<string> { "optimized" };
            foreach (var width in ForcedWidths)
            {
                if (VectorWidths.IsSupported(width))
                    names.Add(OptimizedName(width));
            }

            names.AddRange(ReducedPrecisions.Select(OptimizedName));
            names.Add("scalar-float");
            names.AddRange(AlgorithmExamples);
            names.AddRange(OneDnnPrecisions.Where(p => OneDnn.OneDnnKernel.UnavailableReason(p) is null).Select(OneDnnNameOf));
            names.AddRange(FaultyKernels.EveryName.Select(n => FaultyKernels.Prefix + n));
            return names;
        }
    }

    /// <summary>Every name bnverify knows on any machine: <see cref="Names"/> plus the widths this machine does not accelerate.</summary>
    public static IReadOnlyList<string> AllNames =>
        ["optimized", .. ForcedWidths.Select(OptimizedName), .. ReducedPrecisions.Select(OptimizedName),
         "scalar-float", .. AlgorithmExamples, .. OneDnnNames, .. FaultyKernels.EveryName.Select(n => FaultyKernels.Prefix + n)];

    /// <summary>oneDNN's CPU batch normalization, in process (needs libdnnl.so.2).</summary>
    public const string OneDnnName = "onednn";

    /// <summary>
    /// The data formats oneDNN's batch norm is verified in, each a kernel of its own. Not float16:
    /// oneDNN 2.6 has no f16 batch norm for this CPU (dnnl_primitive_desc_create: unimplemented).
    /// </summary>
    private static readonly DataPrecision[] OneDnnPrecisions = [DataPrecision.Float32, DataPrecision.BFloat16];

    private static IEnumerable<string> OneDnnNames => OneDnnPrecisions.Select(OneDnnNameOf);

    /// <summary>onednn, or onednn-bf16 / onednn-fp16 with its data tensors in that format.</summary>
    public static string OneDnnNameOf(DataPrecision precision) => precision == DataPrecision.Float32 ? OneDnnName : $"{OneDnnName}-{precision.ShortName()}";

    /// <summary>Kernels bnverify knows but this machine cannot run, each with the reason.</summary>
    public static IReadOnlyList<(string Name, string Reason)> Unavailable =>
        [.. OneDnnPrecisions.Select(p => (Name: OneDnnNameOf(p), Reason: OneDnn.OneDnnKernel.UnavailableReason(p))).Where(k => k.Reason is not null).Select(k => (k.Name, k.Reason!))];

    /// <summary>The optimized kernel at every supported width, widest first: the set a release must pass.</summary>
    public static IReadOnlyList<string> OptimizedWidths =>
        ForcedWidths.Where(VectorWidths.IsSupported).Select(OptimizedName).ToArray();

    /// <summary>The kernel of that name, with a thread budget (0: all cores).</summary>
    /// <exception cref="ArgumentException">No kernel has that name; the message lists the names.</exception>
    public static IBatchNormKernel Create(string name, int maxDegreeOfParallelism = 0)
    {
        if (name == "optimized")
            return new OptimizedKernel(name, VectorWidth.Auto, maxDegreeOfParallelism);
        if (name == "scalar-float")
            return new ScalarFloatKernel();
        foreach (var precision in ReducedPrecisions)
        {
            if (name == OptimizedName(precision))
                return new OptimizedKernel(name, VectorWidth.Auto, maxDegreeOfParallelism, precision);
        }

        foreach (var precision in OneDnnPrecisions)
        {
            if (name == OneDnnNameOf(precision))
                return OneDnn.OneDnnKernel.UnavailableReason(precision) is { } reason
                    ? throw new ArgumentException($"kernel '{name}' cannot run here: {reason}", nameof(name))
                    : new OneDnn.OneDnnKernel(precision);
        }

        if (name.StartsWith(FaultyKernels.Prefix, StringComparison.Ordinal))
            return FaultyKernels.Create(name[FaultyKernels.Prefix.Length..]);
        if (name.StartsWith(Algorithms.AlgorithmKernel.Prefix, StringComparison.Ordinal))
            return new Algorithms.AlgorithmKernel(ParseContract(name[Algorithms.AlgorithmKernel.Prefix.Length..], name));
        foreach (var width in ForcedWidths)
        {
            if (name == OptimizedName(width))
            {
                if (!VectorWidths.IsSupported(width))
                    throw new ArgumentException($"kernel '{name}' needs {width}, which this machine does not accelerate.", nameof(name));
                return new OptimizedKernel(name, width, maxDegreeOfParallelism);
            }
        }

        throw new ArgumentException($"no kernel is named '{name}'; known: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>
    /// One line on what a kernel of <see cref="AllNames"/> is: for the optimized variants their width or data format, for
    /// the others what they compute, for a planted bug the bug. Null for a name bnverify does not know.
    /// </summary>
    public static string? Describe(string name)
    {
        if (name == "optimized")
            return $"the float32 SIMD kernel at the widest width this machine accelerates; declares {OptimizedKernel.Declared}";
        if (name == "scalar-float")
            return $"the plain baseline: one float loop per channel, statistics in double; declares {new ScalarFloatKernel().Contract}";
        foreach (var width in ForcedWidths)
        {
            if (name == OptimizedName(width))
                return width == VectorWidth.Scalar ? "the optimized kernel with its scalar loops (no SIMD)" : $"the optimized kernel forced to {(int)width}-bit vectors";
        }

        foreach (var precision in ReducedPrecisions)
        {
            if (name == OptimizedName(precision))
                return $"the optimized kernel storing its data tensors (x, y, dy, dx) in {precision.ShortName()}";
        }

        foreach (var precision in OneDnnPrecisions)
        {
            if (name == OneDnnNameOf(precision))
                return $"oneDNN 2.6's CPU batch norm in process, {precision.ShortName()} data (libdnnl-dev); declares {OneDnn.OneDnnKernel.Declared}";
        }

        if (name.StartsWith(Algorithms.AlgorithmKernel.Prefix, StringComparison.Ordinal))
            return $"a textbook kernel that computes exactly as contract {name[Algorithms.AlgorithmKernel.Prefix.Length..]} says (any contract may follow 'algorithm:')";
        if (name.StartsWith(FaultyKernels.Prefix, StringComparison.Ordinal) && FaultyKernels.EveryName.Contains(name[FaultyKernels.Prefix.Length..]))
            return $"planted bug: {FaultyKernels.Create(name[FaultyKernels.Prefix.Length..]).Bug}";
        return null;
    }

    private static NumericalContract ParseContract(string text, string name)
    {
        try
        {
            return NumericalContract.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"kernel '{name}': {e.Message}", nameof(name), e);
        }
    }

    /// <summary>Examples of <c>algorithm:CONTRACT</c> names, one per common algorithm; any contract may follow the prefix.</summary>
    public static readonly IReadOnlyList<string> AlgorithmExamples =
    [
        "algorithm:double/two-pass/centred", "algorithm:float-pairwise/two-pass/folded", "algorithm:float-lanes:16/rounded-centre/folded-fma",
        "algorithm:float-blocked:64/welford/folded-fma", "algorithm:float-sequential/two-pass/folded",
    ];

    /// <summary>The data formats the optimized kernel also stores in, each a kernel of its own: optimized-bf16, optimized-fp16.</summary>
    private static readonly DataPrecision[] ReducedPrecisions = [DataPrecision.BFloat16, DataPrecision.Float16];

    /// <summary>The name of the optimized kernel storing its data tensors in a reduced precision.</summary>
    public static string OptimizedName(DataPrecision precision) => $"optimized-{precision.ShortName()}";

    /// <summary>The name of the optimized kernel forced to a width: optimized-512, -256, -128 or -scalar.</summary>
    public static string OptimizedName(VectorWidth width) =>
        width == VectorWidth.Scalar ? "optimized-scalar" : $"optimized-{(int)width}";

    /// <summary>The width an optimized-WIDTH name forces.</summary>
    /// <exception cref="ArgumentException">The name is not an optimized kernel forced to a width.</exception>
    public static VectorWidth WidthOf(string name) =>
        ForcedWidths.Where(w => OptimizedName(w) == name).Select(w => (VectorWidth?)w).FirstOrDefault()
        ?? throw new ArgumentException($"'{name}' is not an optimized kernel forced to a width.", nameof(name));
}
