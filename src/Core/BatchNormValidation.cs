using System.Globalization;
using System.Numerics;

namespace BatchNorm;

/// <summary>
/// The argument rules every implementation applies before it writes anything, so that bad input
/// leaves outputs and running statistics untouched. Each failure is an <see cref="ArgumentException"/>
/// naming the argument, the value and the rule.
/// </summary>
public static class BatchNormValidation
{
    /// <summary>Checks a training-mode forward call.</summary>
    public static void Check<T>(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<T> t)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckOptions(options);
        CheckLength(t.X, shape.ElementCount, "x", shape);
        CheckOptionalPerChannel(t.Gamma, shape, "gamma");
        CheckOptionalPerChannel(t.Beta, shape, "beta");
        CheckLength(t.Y, shape.ElementCount, "y", shape);
        CheckLength(t.BatchMean, shape.C, "batchMean", shape);
        CheckLength(t.BatchVariance, shape.C, "batchVariance", shape);
        CheckLength(t.BatchInvStd, shape.C, "batchInvStd", shape);
        if (t.RunningMean.IsEmpty != t.RunningVariance.IsEmpty)
        {
            throw new ArgumentException(
                "runningMean and runningVariance must both be given (to update them) or both be empty (no update).",
                t.RunningMean.IsEmpty ? "runningMean" : "runningVariance");
        }

        if (!t.RunningMean.IsEmpty)
        {
            CheckLength(t.RunningMean, shape.C, "runningMean", shape);
            CheckLength(t.RunningVariance, shape.C, "runningVariance", shape);
            CheckNotNegative((ReadOnlySpan<T>)t.RunningVariance, "runningVariance");
            if (shape.M == 1 && RunningStatsRule.UsesUnbiasedVariance(options.Convention))
            {
                throw new ArgumentException(
                    $"Expected more than 1 value per channel when training under the {options.Convention} convention (shape {shape}, M = N*S = 1): " +
                    "its unbiased running variance divides by M-1 = 0. Use a biased convention (Keras, Onnx) or pass no running statistics.", "x");
            }
        }

        unsafe
        {
            fixed (T* x = t.X, g = t.Gamma, b = t.Beta, y = t.Y, mean = t.BatchMean, variance = t.BatchVariance,
                   invStd = t.BatchInvStd, runMean = t.RunningMean, runVar = t.RunningVariance)
            {
                ReadOnlySpan<Region> regions =
                [
                    Region.Input(x, t.X.Length, "x"), Region.Input(g, t.Gamma.Length, "gamma"), Region.Input(b, t.Beta.Length, "beta"),
                    Region.Output(y, t.Y.Length, "y", inPlaceOf: "x"), Region.Output(mean, t.BatchMean.Length, "batchMean"),
                    Region.Output(variance, t.BatchVariance.Length, "batchVariance"), Region.Output(invStd, t.BatchInvStd.Length, "batchInvStd"),
                    Region.Output(runMean, t.RunningMean.Length, "runningMean"), Region.Output(runVar, t.RunningVariance.Length, "runningVariance"),
                ];
                Region.CheckNoOverlap(regions);
            }
        }
    }

    /// <summary>Checks an inference-mode forward call.</summary>
    public static void Check<T>(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<T> t)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckOptions(options);
        CheckLength(t.X, shape.ElementCount, "x", shape);
        CheckOptionalPerChannel(t.Gamma, shape, "gamma");
        CheckOptionalPerChannel(t.Beta, shape, "beta");
        CheckLength(t.RunningMean, shape.C, "runningMean", shape);
        CheckLength(t.RunningVariance, shape.C, "runningVariance", shape);
        CheckNotNegative(t.RunningVariance, "runningVariance");
        CheckLength(t.Y, shape.ElementCount, "y", shape);
        unsafe
        {
            fixed (T* x = t.X, g = t.Gamma, b = t.Beta, runMean = t.RunningMean, runVar = t.RunningVariance, y = t.Y)
            {
                ReadOnlySpan<Region> regions =
                [
                    Region.Input(x, t.X.Length, "x"), Region.Input(g, t.Gamma.Length, "gamma"), Region.Input(b, t.Beta.Length, "beta"),
                    Region.Input(runMean, t.RunningMean.Length, "runningMean"), Region.Input(runVar, t.RunningVariance.Length, "runningVariance"),
                    Region.Output(y, t.Y.Length, "y", inPlaceOf: "x"),
                ];
                Region.CheckNoOverlap(regions);
            }
        }
    }

    /// <summary>Checks a training-mode backward call: forwardY, when given (fused ReLU), has N*C*S elements.</summary>
    public static void Check<T>(in TensorShape shape, in BackwardTrainingTensors<T> t)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLength(t.X, shape.ElementCount, "x", shape);
        CheckLength(t.Dy, shape.ElementCount, "dy", shape);
        CheckOptionalPerChannel(t.Gamma, shape, "gamma");
        CheckLength(t.SavedMean, shape.C, "savedMean", shape);
        CheckLength(t.SavedInvStd, shape.C, "savedInvStd", shape);
        CheckNotNegative(t.SavedInvStd, "savedInvStd");
        if (!t.ForwardY.IsEmpty)
            CheckLength(t.ForwardY, shape.ElementCount, "forwardY", shape);
        CheckBackwardOutputs(shape, t.Dx, t.DGamma, t.DBeta);
        unsafe
        {
            fixed (T* x = t.X, dy = t.Dy, g = t.Gamma, mean = t.SavedMean, invStd = t.SavedInvStd, fy = t.ForwardY, dx = t.Dx, dg = t.DGamma, db = t.DBeta)
            {
                ReadOnlySpan<Region> regions =
                [
                    Region.Input(x, t.X.Length, "x"), Region.Input(dy, t.Dy.Length, "dy"), Region.Input(g, t.Gamma.Length, "gamma"),
                    Region.Input(mean, t.SavedMean.Length, "savedMean"), Region.Input(invStd, t.SavedInvStd.Length, "savedInvStd"),
                    Region.Input(fy, t.ForwardY.Length, "forwardY"),
                    Region.Output(dx, t.Dx.Length, "dx", inPlaceOf: "dy"), Region.Output(dg, t.DGamma.Length, "dgamma"),
                    Region.Output(db, t.DBeta.Length, "dbeta"),
                ];
                Region.CheckNoOverlap(regions);
            }
        }
    }

    /// <summary>Checks an inference-mode backward call: forwardY is given exactly when options.Activation is Relu.</summary>
    public static void Check<T>(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<T> t)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckOptions(options);
        CheckLength(t.X, shape.ElementCount, "x", shape);
        CheckLength(t.Dy, shape.ElementCount, "dy", shape);
        CheckOptionalPerChannel(t.Gamma, shape, "gamma");
        CheckLength(t.RunningMean, shape.C, "runningMean", shape);
        CheckLength(t.RunningVariance, shape.C, "runningVariance", shape);
        CheckNotNegative(t.RunningVariance, "runningVariance");
        if (options.Activation == Activation.Relu)
            CheckLength(t.ForwardY, shape.ElementCount, "forwardY", shape);
        else if (!t.ForwardY.IsEmpty)
            throw new ArgumentException($"forwardY has {t.ForwardY.Length} elements; it must be empty unless options.Activation is Relu (it is {options.Activation}).", "forwardY");
        CheckBackwardOutputs(shape, t.Dx, t.DGamma, t.DBeta);
        unsafe
        {
            fixed (T* x = t.X, dy = t.Dy, g = t.Gamma, runMean = t.RunningMean, runVar = t.RunningVariance, fy = t.ForwardY, dx = t.Dx, dg = t.DGamma, db = t.DBeta)
            {
                ReadOnlySpan<Region> regions =
                [
                    Region.Input(x, t.X.Length, "x"), Region.Input(dy, t.Dy.Length, "dy"), Region.Input(g, t.Gamma.Length, "gamma"),
                    Region.Input(runMean, t.RunningMean.Length, "runningMean"), Region.Input(runVar, t.RunningVariance.Length, "runningVariance"),
                    Region.Input(fy, t.ForwardY.Length, "forwardY"),
                    Region.Output(dx, t.Dx.Length, "dx", inPlaceOf: "dy"), Region.Output(dg, t.DGamma.Length, "dgamma"),
                    Region.Output(db, t.DBeta.Length, "dbeta"),
                ];
                Region.CheckNoOverlap(regions);
            }
        }
    }

    /// <summary>eps finite and positive; momentum finite and in [0, 1]; a known convention and activation.</summary>
    public static void CheckOptions(BatchNormOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Convention))
            throw new ArgumentOutOfRangeException("options.Convention", options.Convention, "convention must be PyTorch, Keras or Onnx.");
        if (!Enum.IsDefined(options.Activation))
            throw new ArgumentOutOfRangeException("options.Activation", options.Activation, "activation must be None or Relu.");
        if (!double.IsFinite(options.Epsilon) || options.Epsilon <= 0)
        {
            throw new ArgumentOutOfRangeException("options.Epsilon", options.Epsilon.ToString("R", CultureInfo.InvariantCulture),
                "eps must be finite and greater than 0 (it keeps 1/sqrt(var + eps) finite for a constant channel).");
        }

        if (!(options.Momentum >= 0 && options.Momentum <= 1))
        {
            throw new ArgumentOutOfRangeException("options.Momentum", options.Momentum.ToString("R", CultureInfo.InvariantCulture),
                "momentum must be in [0, 1].");
        }
    }

    private static void CheckBackwardOutputs<T>(in TensorShape shape, Span<T> dx, Span<T> dgamma, Span<T> dbeta)
    {
        CheckLength<T>(dx, shape.ElementCount, "dx", shape);
        CheckLength<T>(dgamma, shape.C, "dgamma", shape);
        CheckLength<T>(dbeta, shape.C, "dbeta", shape);
    }

    private static void CheckLength<T>(ReadOnlySpan<T> span, int expected, string name, in TensorShape shape)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name} has {span.Length} elements; shape {shape} needs {expected}."), name);
        }
    }

    private static void CheckOptionalPerChannel<T>(ReadOnlySpan<T> span, in TensorShape shape, string name)
    {
        if (!span.IsEmpty)
            CheckLength(span, shape.C, name, shape);
    }

    private static void CheckNotNegative<T>(ReadOnlySpan<T> span, string name)
        where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < span.Length; i++)
        {
            if (span[i] < T.Zero)
            {
                throw new ArgumentOutOfRangeException(name, string.Create(CultureInfo.InvariantCulture, $"{name}[{i}] = {span[i]:R}"),
                    $"{name} must not be negative.");
            }
        }
    }

    /// <summary>A span's address range, pinned by the caller, with the name used in messages.</summary>
    private readonly unsafe struct Region(void* start, long bytes, string name, bool isOutput, string? inPlaceOf)
    {
        private readonly byte* start = (byte*)start;
        private readonly long bytes = bytes;
        private readonly string name = name;
        private readonly bool isOutput = isOutput;
        private readonly string? inPlaceOf = inPlaceOf;

        public static Region Input<T>(T* start, int length, string name) where T : unmanaged =>
            new(start, (long)length * sizeof(T), name, isOutput: false, inPlaceOf: null);

        public static Region Output<T>(T* start, int length, string name, string? inPlaceOf = null) where T : unmanaged =>
            new(start, (long)length * sizeof(T), name, isOutput: true, inPlaceOf);

        /// <summary>
        /// No output may overlap any other span, except an output that is exactly the input it
        /// names as <c>inPlaceOf</c> (same start, same length): that element-wise in-place use is allowed.
        /// </summary>
        public static void CheckNoOverlap(ReadOnlySpan<Region> regions)
        {
            for (int i = 0; i < regions.Length; i++)
            {
                Region output = regions[i];
                if (!output.isOutput || output.bytes == 0)
                    continue;
                for (int j = 0; j < regions.Length; j++)
                {
                    Region other = regions[j];
                    if (i == j || other.bytes == 0 || !output.Overlaps(other))
                        continue;
                    bool exactInPlace = output.inPlaceOf == other.name && output.start == other.start && output.bytes == other.bytes;
                    if (!exactInPlace)
                    {
                        string rule = output.inPlaceOf is null
                            ? $"{output.name} must not overlap any other argument."
                            : $"{output.name} must not overlap any other argument, except that it may be exactly {output.inPlaceOf} (in place).";
                        throw new ArgumentException($"{output.name} overlaps {other.name}. {rule}", output.name);
                    }
                }
            }
        }

        private bool Overlaps(Region other)
        {
            return start < other.start + other.bytes && other.start < start + bytes;
        }
    }
}
