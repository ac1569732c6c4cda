using System.Globalization;
using System.Text.Json.Nodes;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Npy;

namespace BatchNorm.Harness.Adapters;

/// <summary>
/// A kernel in another language, reached through an <see cref="AdapterProcess"/>: each call sends the pass, the case's
/// description and its input tensors as .npy, and copies the outputs the adapter returns into the verifier's buffers
/// (an output it does not return stays the verifier's NaN prefill, and fails). Its name, contract, activations and data
/// precision are the ones its hello declares. An answer {"error": "..."} is the adapter refusing the case, an
/// <see cref="ArgumentException"/> as an in-process kernel would throw.
/// </summary>
internal sealed class AdapterKernel : IBatchNormKernel, IDisposable
{
    private readonly AdapterProcess process;
    private readonly HashSet<Activation> activations;

    private AdapterKernel(AdapterProcess process)
    {
        this.process = process;
        var hello = process.Hello;
        Name = hello["name"] is JsonValue name && name.TryGetValue(out string? text) && text.Length > 0 ? text : "adapter";
        try
        {
            Contract = hello["contract"] is JsonValue contract && contract.TryGetValue(out string? c) ? NumericalContract.Parse(c) : null;
        }
        catch (ArgumentException e)
        {
            throw new AdapterException($"--adapter: its hello declares contract {hello["contract"]}, which is not one: {e.Message}");
        }

        activations = [Activation.None];
        if (hello["activations"] is JsonArray listed)
        {
            foreach (var a in listed)
            {
                activations.Add(Enum.GetValues<Activation>().Where(v => v.Short() == a?.ToString()).Select(v => (Activation?)v).FirstOrDefault()
                    ?? throw new AdapterException($"--adapter: its hello declares activation {a}; each must be none or relu"));
            }
        }

        string precision = hello["precision"]?.ToString() ?? "fp32";
        Precision = Enum.GetValues<DataPrecision>().Where(p => p.ShortName() == precision).Select(p => (DataPrecision?)p).FirstOrDefault()
            ?? throw new AdapterException($"--adapter: its hello declares precision {precision}; it must be fp32, bf16 or fp16");
    }

    /// <summary>Starts <paramref name="command"/> and reads its hello.</summary>
    /// <exception cref="AdapterException">It cannot be started or its hello is not the protocol's.</exception>
    public static AdapterKernel Start(string command, TimeSpan timeout) => new(AdapterProcess.Start(command, timeout));

    public string Name { get; }

    public NumericalContract? Contract { get; }

    public DataPrecision Precision { get; }

    public bool Supports(Activation activation) => activations.Contains(activation);

    public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
    {
        var inputs = ForwardInputs(shape, t.X, t.Gamma, t.Beta, t.RunningMean, t.RunningVariance);
        var outputs = Call(BatchNormPass.ForwardTraining, shape, options.Epsilon, options.Momentum, options.Convention, options.Activation, inputs);
        Copy(outputs, BatchNormOutput.Y, t.Y);
        Copy(outputs, BatchNormOutput.BatchMean, t.BatchMean);
        Copy(outputs, BatchNormOutput.BatchVariance, t.BatchVariance);
        Copy(outputs, BatchNormOutput.BatchInvStd, t.BatchInvStd);
        Copy(outputs, BatchNormOutput.RunningMean, t.RunningMean);
        Copy(outputs, BatchNormOutput.RunningVariance, t.RunningVariance);
    }

    public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
    {
        var inputs = ForwardInputs(shape, t.X, t.Gamma, t.Beta, t.RunningMean, t.RunningVariance);
        var outputs = Call(BatchNormPass.ForwardInference, shape, options.Epsilon, options.Momentum, options.Convention, options.Activation, inputs);
        Copy(outputs, BatchNormOutput.Y, t.Y);
    }

    /// <remarks>Backward training is given no options: the saved invstd carries eps, so the request's eps is 0.</remarks>
    public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
    {
        var inputs = BackwardInputs(shape, t.X, t.Dy, t.Gamma, (BatchNormInput.SavedMean, BatchNormInput.SavedInvStd), t.SavedMean, t.SavedInvStd, t.ForwardY);
        var activation = t.ForwardY.IsEmpty ? Activation.None : Activation.Relu;
        CopyGradients(Call(BatchNormPass.BackwardTraining, shape, 0, 0, RunningStatsConvention.PyTorch, activation, inputs), t.Dx, t.DGamma, t.DBeta);
    }

    public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t)
    {
        var inputs = BackwardInputs(shape, t.X, t.Dy, t.Gamma, (BatchNormInput.RunningMean, BatchNormInput.RunningVariance), t.RunningMean, t.RunningVariance, t.ForwardY);
        CopyGradients(Call(BatchNormPass.BackwardInference, shape, options.Epsilon, options.Momentum, options.Convention, options.Activation, inputs), t.Dx, t.DGamma, t.DBeta);
    }

    public void Dispose() => process.Dispose();

    /// <summary>Both forward passes read x and whichever of gamma, beta and the running statistics the case has.</summary>
    private static List<(string, byte[])> ForwardInputs(TensorShape shape, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance)
    {
        var inputs = new List<(string, byte[])> { Data(BatchNormInput.X, x, shape) };
        AddOptional(inputs, BatchNormInput.Gamma, gamma);
        AddOptional(inputs, BatchNormInput.Beta, beta);
        AddOptional(inputs, BatchNormInput.RunningMean, runningMean);
        AddOptional(inputs, BatchNormInput.RunningVariance, runningVariance);
        return inputs;
    }

    /// <summary>Both backward passes read x, dy, gamma where the case has it, a pair of statistics (saved or running), and the forward's y under a fused ReLU.</summary>
    private static List<(string, byte[])> BackwardInputs(TensorShape shape, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        (BatchNormInput Mean, BatchNormInput Spread) names, ReadOnlySpan<float> mean, ReadOnlySpan<float> spread, ReadOnlySpan<float> forwardY)
    {
        var inputs = new List<(string, byte[])> { Data(BatchNormInput.X, x, shape), Data(BatchNormInput.Dy, dy, shape) };
        AddOptional(inputs, BatchNormInput.Gamma, gamma);
        AddOptional(inputs, names.Mean, mean);
        AddOptional(inputs, names.Spread, spread);
        if (!forwardY.IsEmpty)
            inputs.Add(Data(BatchNormInput.ForwardY, forwardY, shape));
        return inputs;
    }

    private static void CopyGradients(Dictionary<string, NpyArray> outputs, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        Copy(outputs, BatchNormOutput.Dx, dx);
        Copy(outputs, BatchNormOutput.DGamma, dgamma);
        Copy(outputs, BatchNormOutput.DBeta, dbeta);
    }

    private static (string, byte[]) Data(BatchNormInput name, ReadOnlySpan<float> values, TensorShape shape) =>
        (name.FileStem(), NpyArray.EncodeFloat32(values, ExportManifest.XShapeOf(shape)));

    /// <summary>A per-channel input, sent as a (C,) array where the case has it.</summary>
    private static void AddOptional(List<(string, byte[])> inputs, BatchNormInput name, ReadOnlySpan<float> values)
    {
        if (!values.IsEmpty)
            inputs.Add((name.FileStem(), NpyArray.EncodeFloat32(values, values.Length)));
    }

    private Dictionary<string, NpyArray> Call(BatchNormPass pass, TensorShape shape, double eps, double momentum, RunningStatsConvention convention, Activation activation,
        List<(string, byte[])> inputs)
    {
        var request = new AdapterMessage(new JsonObject
        {
            ["pass"] = ExportManifest.PassName(pass),
            ["case"] = new JsonObject
            {
                ["n"] = shape.N,
                ["c"] = shape.C,
                ["s"] = shape.S,
                ["layout"] = shape.Layout.Short(),
                ["eps"] = eps,
                ["momentum"] = momentum,
                ["convention"] = ExportManifest.ConventionName(convention),
                ["activation"] = activation.Short(),
                ["precision"] = Precision.ShortName(),
            },
        }, inputs);
        string what = string.Create(CultureInfo.InvariantCulture, $"{ExportManifest.PassName(pass)} of {shape}");
        var answer = process.Call(request, what);
        if (answer.Header["error"] is { } error)
            throw new ArgumentException($"the adapter refused {what}: {error}");
        var outputs = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        foreach (var (name, npy) in answer.Tensors)
        {
            try
            {
                var array = NpyArray.Parse(npy, name);
                if (array.IsFloat64)
                    throw new InvalidDataException("float64, not float32");
                outputs[name] = array;
            }
            catch (InvalidDataException e)
            {
                throw new AdapterException($"--adapter: its answer to {what} has a tensor {name} that is not a float32 .npy: {e.Message}");
            }
        }

        return outputs;
    }

    private static void Copy(Dictionary<string, NpyArray> outputs, BatchNormOutput name, Span<float> target)
    {
        if (target.IsEmpty || !outputs.TryGetValue(name.FileStem(), out var array))
            return;
        if (array.Values.Length != target.Length)
            throw new AdapterException($"--adapter: it returned {name.FileStem()} with {array.Values.Length} values where the case has {target.Length}");
        for (int i = 0; i < target.Length; i++)
            target[i] = (float)array.Values[i]; // exact: the values were read from float32
    }
}
