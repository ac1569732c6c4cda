using static BatchNorm.Harness.Kernels.OneDnn.OneDnnNative;
using static BatchNorm.Harness.Kernels.OneDnn.OneDnnPrimitive.Holds;

namespace BatchNorm.Harness.Kernels.OneDnn;

/// <summary>
/// oneDNN's CPU batch normalization (libdnnl.so.2, in process) as a kernel under test, for every
/// pass and both layouts. oneDNN does what a framework's kernel does and no more; the adapter does
/// the framework's part, in double, as PyTorch's oneDNN path does: absent gamma and beta become
/// ones and zeros (exact), the batch istd is 1/sqrt(var + eps) of oneDNN's variance, the running
/// statistics are updated from oneDNN's batch statistics, and training backward gets the saved
/// variance as 1/istd² - eps (eps far below every 1/istd²). Those conversions round once each; the verifier sees them as the
/// kernel's. A fused ReLU is oneDNN's own (dnnl_fuse_norm_relu); its backward reads the mask from a
/// workspace its forward wrote, so the adapter writes that workspace with oneDNN's forward run on
/// the given forwardY itself (mean 0, istd 1: the same signs), and oneDNN's backward then gates by
/// its own mask of forwardY, in its own format.
/// </summary>
internal sealed unsafe class OneDnnKernel : IBatchNormKernel
{
    private readonly DataPrecision precision;

    private static readonly Lazy<(nint Engine, nint Stream)> Context = new(() =>
    {
        Check(dnnl_engine_create(out nint engine, CpuEngine, 0), "dnnl_engine_create");
        Check(dnnl_stream_create(out nint stream, engine, InOrderStream), "dnnl_stream_create");
        return (engine, stream);
    });

    /// <summary>
    /// Measured, not read from oneDNN's source (docs/onednn.md): float sums at least as accurate as 16 lanes each adding
    /// every 16th term, two-pass statistics, applied centred, in both layouts (bnverify profile: the tightest contract
    /// its forward training meets in channels-last; in channels-first it meets float-pairwise sums but only with
    /// Welford's looser variance bound, the long channel's 70u). Its backward meets float-pairwise sums.
    /// </summary>
    public NumericalContract Contract => Declared;

    /// <summary>The contract oneDNN 2.6 meets (docs/onednn.md): float sums in 16 lanes, two-pass statistics, centred apply.</summary>
    public static NumericalContract Declared { get; } = new(Accumulation.FloatLanes, StatisticsForm.TwoPass, ApplyForm.Centred, 16);

    /// <summary>Creates the kernel.</summary>
    /// <exception cref="NotSupportedException">libdnnl.so.2 is not installed; the message gives the install command.</exception>
    public OneDnnKernel(DataPrecision precision = DataPrecision.Float32)
    {
        this.precision = precision;
        if (!Available)
            throw new NotSupportedException($"kernel 'onednn' needs oneDNN ({Library}), which is not installed: {Install}");
    }

    public string Name => KernelCatalog.OneDnnNameOf(precision);

    /// <summary>
    /// Why oneDNN cannot run batch norm in <paramref name="precision"/> on this machine, or null when it can: oneDNN is
    /// not installed, or it has no implementation for this CPU. oneDNN 2.6's bf16 batch norm needs AVX-512, so on an
    /// AVX2 machine primitive creation returns dnnl_unimplemented; a kernel that cannot run is unavailable, not failing.
    /// Probed once per precision, on a small forward training primitive.
    /// </summary>
    public static string? UnavailableReason(DataPrecision precision) => Probes[precision].Value;

    private static readonly Dictionary<DataPrecision, Lazy<string?>> Probes = Enum.GetValues<DataPrecision>().ToDictionary(p => p, p => new Lazy<string?>(() => Probe(p)));

    private static string? Probe(DataPrecision precision)
    {
        if (!Available)
            return $"not installed: {Install}";
        try
        {
            using var primitive = new OneDnnPrimitive(Context.Value.Engine, Context.Value.Stream, new TensorShape(2, 16, 4, Layout.ChannelsFirst), 1e-5, PropForwardTraining, ScaleShift, backward: false, precision);
            return null;
        }
        catch (OneDnnException e) when (e.Status == Unimplemented)
        {
            return $"oneDNN has no {precision.ShortName()} batch norm for this CPU ({e.Message}: unimplemented; oneDNN 2.6's bf16 batch norm needs AVX-512)";
        }
    }

    /// <summary>oneDNN's own data type for x, y, dy and dx (f32, bf16 or f16); the statistics, scale and shift stay f32.</summary>
    public DataPrecision Precision => precision;

    /// <summary>Plain batch norm and fused ReLU (dnnl_fuse_norm_relu).</summary>
    public bool Supports(Activation activation) => Enum.IsDefined(activation);

    private const uint ScaleShift = UseScale | UseShift;

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        float[] scale = Parameter(t.Gamma, shape.C, 1f), shift = Parameter(t.Beta, shape.C, 0f);
        var primitive = Primitive(shape, options.Epsilon, PropForwardTraining, ScaleShift | Fused(options.Activation), backward: false);
        // A fused ReLU's training forward writes its mask for the backward; this call has no use for it.
        // Without one (plain batch norm, the bench's anchor) nothing is allocated.
        byte[] workspace = primitive.WorkspaceBytes is > 0 and int bytes ? new byte[bytes] : [];
        fixed (float* x = t.X, y = t.Y, mean = t.BatchMean, variance = t.BatchVariance, g = scale, b = shift)
        fixed (byte* w = workspace)
        {
            primitive.Execute([new(ArgSrc, (nint)x, Data), new(ArgDst, (nint)y, Data), new(ArgMean, (nint)mean, Channel), new(ArgVariance, (nint)variance, Channel),
                new(ArgScale, (nint)g, Channel), new(ArgShift, (nint)b, Channel), .. WorkspaceArgument(w, workspace.Length)]);
        }

        for (int c = 0; c < shape.C; c++)
        {
            t.BatchInvStd[c] = (float)(1.0 / Math.Sqrt(t.BatchVariance[c] + options.Epsilon));
            if (!t.RunningMean.IsEmpty)
            {
                t.RunningMean[c] = (float)RunningStatsRule.UpdateMean(options.Convention, options.Momentum, t.RunningMean[c], t.BatchMean[c]);
                t.RunningVariance[c] = (float)RunningStatsRule.UpdateVariance(options.Convention, options.Momentum, t.RunningVariance[c], t.BatchVariance[c], shape.M);
            }
        }
    }

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        float[] scale = Parameter(t.Gamma, shape.C, 1f), shift = Parameter(t.Beta, shape.C, 0f);
        var primitive = Primitive(shape, options.Epsilon, PropForwardInference, ScaleShift | UseGlobalStats | Fused(options.Activation), backward: false);
        fixed (float* x = t.X, y = t.Y, mean = t.RunningMean, variance = t.RunningVariance, g = scale, b = shift)
        {
            primitive.Execute([new(ArgSrc, (nint)x, Data), new(ArgDst, (nint)y, Data), new(ArgMean, (nint)mean, Channel), new(ArgVariance, (nint)variance, Channel),
                new(ArgScale, (nint)g, Channel), new(ArgShift, (nint)b, Channel)]);
        }
    }

    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        BatchNormValidation.Check(shape, t);
        // oneDNN takes a variance and an epsilon; the kernel was given istd. Any eps with
        // var = 1/istd² - eps gives var + eps = 1/istd² back: one far below every channel's
        // 1/istd² keeps var from cancelling, so the saved istd is reproduced to a rounding.
        float[] invStd = t.SavedInvStd.ToArray();
        double smallest = invStd.Select(v => 1.0 / ((double)v * v)).Where(v => v > 0 && double.IsFinite(v)).DefaultIfEmpty(1.0).Min();
        double epsilon = Math.Max(smallest * Math.ScaleB(1.0, -30), 1e-30);
        float[] scale = Parameter(t.Gamma, shape.C, 1f), shift = new float[shape.C], variance = new float[shape.C];
        for (int c = 0; c < shape.C; c++)
            variance[c] = (float)Math.Max(0.0, (1.0 / ((double)invStd[c] * invStd[c])) - epsilon);
        Backward(shape, epsilon, ScaleShift, t.X, t.Dy, t.ForwardY, t.SavedMean, variance, scale, shift, t.Dx, t.DGamma, t.DBeta);
    }

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        BatchNormValidation.Check(shape, options, t);
        float[] scale = Parameter(t.Gamma, shape.C, 1f), shift = new float[shape.C];
        Backward(shape, options.Epsilon, ScaleShift | UseGlobalStats, t.X, t.Dy, t.ForwardY, t.RunningMean, t.RunningVariance, scale, shift, t.Dx, t.DGamma, t.DBeta);
    }

    private void Backward(in TensorShape shape, double epsilon, uint flags, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> forwardY, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> variance, float[] scale, float[] shift, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        var activation = forwardY.IsEmpty ? Activation.None : Activation.Relu;
        var primitive = Primitive(shape, epsilon, PropForwardTraining, flags | Fused(activation), backward: true);
        byte[] workspace = activation == Activation.Relu ? ReluWorkspace(shape, forwardY) : [];
        fixed (float* px = x, pdy = dy, pm = mean, pv = variance, g = scale, b = shift, pdx = dx, pdg = dgamma, pdb = dbeta)
        fixed (byte* w = workspace)
        {
            primitive.Execute([new(ArgSrc, (nint)px, Data), new(ArgDiffDst, (nint)pdy, Data), new(ArgMean, (nint)pm, Channel), new(ArgVariance, (nint)pv, Channel),
                new(ArgScale, (nint)g, Channel), new(ArgShift, (nint)b, Channel), new(ArgDiffSrc, (nint)pdx, Data), new(ArgDiffScale, (nint)pdg, Channel),
                new(ArgDiffShift, (nint)pdb, Channel), .. WorkspaceArgument(w, workspace.Length)]);
        }
    }

    /// <summary>
    /// The workspace oneDNN's fused-ReLU backward reads, written by its own training forward (global
    /// statistics, mean 0, variance 1 - eps, scale 1, shift 0) run on forwardY: y = forwardY·istd
    /// with istd within a rounding of 1 keeps every sign, so the mask it stores is oneDNN's mask of
    /// forwardY itself (a NaN passes, as in the reference).
    /// </summary>
    private byte[] ReluWorkspace(in TensorShape shape, ReadOnlySpan<float> forwardY)
    {
        const double Epsilon = 1.0 / 1024;
        var primitive = Primitive(shape, Epsilon, PropForwardTraining, ScaleShift | UseGlobalStats | FuseNormRelu, backward: false);
        byte[] workspace = new byte[primitive.WorkspaceBytes];
        float[] y = new float[forwardY.Length], mean = new float[shape.C], variance = Enumerable.Repeat((float)(1 - Epsilon), shape.C).ToArray();
        float[] scale = Enumerable.Repeat(1f, shape.C).ToArray(), shift = new float[shape.C];
        fixed (float* src = forwardY, dst = y, m = mean, v = variance, g = scale, b = shift)
        fixed (byte* w = workspace)
        {
            primitive.Execute([new(ArgSrc, (nint)src, Data), new(ArgDst, (nint)dst, Data), new(ArgMean, (nint)m, Channel), new(ArgVariance, (nint)v, Channel),
                new(ArgScale, (nint)g, Channel), new(ArgShift, (nint)b, Channel), .. WorkspaceArgument(w, workspace.Length)]);
        }

        return workspace;
    }

    /// <summary>The flag that fuses an activation: dnnl_fuse_norm_relu for ReLU, none for None.</summary>
    private static uint Fused(Activation activation) => activation == Activation.Relu ? FuseNormRelu : 0;

    /// <summary>The workspace argument, or none when the primitive has no workspace.</summary>
    private static OneDnnPrimitive.Argument[] WorkspaceArgument(byte* workspace, int bytes) => bytes == 0 ? [] : [new(ArgWorkspace, (nint)workspace, Workspace)];

    /// <summary>
    /// The primitive for a call, made once per (shape, epsilon, kind, flags) and kept, as a framework
    /// keeps its primitives: so a timed call of this kernel is oneDNN's execution, not its setup.
    /// </summary>
    private OneDnnPrimitive Primitive(in TensorShape shape, double epsilon, int kind, uint flags, bool backward)
    {
        var key = (shape, epsilon, kind, flags, backward);
        lock (primitives)
        {
            if (!primitives.TryGetValue(key, out var primitive))
                primitives[key] = primitive = new OneDnnPrimitive(Context.Value.Engine, Context.Value.Stream, shape, epsilon, kind, flags, backward, precision);
            return primitive;
        }
    }

    private readonly Dictionary<(TensorShape, double, int, uint, bool), OneDnnPrimitive> primitives = [];

    /// <summary>gamma or beta, or ones or zeros where it is absent (multiplying by 1 and adding 0 are exact).</summary>
    private static float[] Parameter(ReadOnlySpan<float> values, int c, float absent) => values.IsEmpty ? Enumerable.Repeat(absent, c).ToArray() : values.ToArray();
}
