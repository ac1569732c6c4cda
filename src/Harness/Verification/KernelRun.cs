using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Verification;

/// <summary>One call of a kernel on a case's inputs: its outputs, and what it did wrong beyond its values.</summary>
public sealed class KernelRun
{
    public IReadOnlyDictionary<string, float[]> Outputs { get; private init; } = new Dictionary<string, float[]>();

    /// <summary>Writes outside an output, changes to an input, an exception.</summary>
    public IReadOnlyList<string> Violations { get; private init; } = [];

    /// <summary>Runs the case's pass on guarded copies of its inputs.</summary>
    public static KernelRun Execute(IBatchNormKernel kernel, VerificationCase @case, CaseInputs inputs)
    {
        var shape = @case.Shape;
        int n = shape.ElementCount, c = shape.C;
        var buffers = new Dictionary<string, GuardedBuffer>
        {
            ["x"] = GuardedBuffer.Of(inputs.X),
            ["gamma"] = GuardedBuffer.Of(inputs.Gamma),
            ["beta"] = GuardedBuffer.Of(inputs.Beta),
        };
        var inputNames = new List<string> { "x", "gamma", "beta" };
        var outputNames = new List<string>();
        var violations = new List<string>();

        GuardedBuffer Input(string name, float[] values)
        {
            inputNames.Add(name);
            return buffers[name] = GuardedBuffer.Of(values);
        }

        GuardedBuffer Output(string name, int length, float[]? initial = null)
        {
            outputNames.Add(name);
            return buffers[name] = initial is null ? GuardedBuffer.Output(length) : GuardedBuffer.Of(initial);
        }

        try
        {
            switch (@case.Pass)
            {
                case BatchNormPass.ForwardTraining:
                    bool running = @case.WithRunningStats;
                    Output("y", n);
                    Output("batchMean", c);
                    Output("batchVariance", c);
                    Output("batchInvStd", c);
                    if (running)
                    {
                        Output("runningMean", c, inputs.RunningMean);
                        Output("runningVariance", c, inputs.RunningVariance);
                    }

                    kernel.ForwardTraining(shape, @case.Options, new ForwardTrainingTensors<float>
                    {
                        X = buffers["x"].Data,
                        Gamma = buffers["gamma"].Data,
                        Beta = buffers["beta"].Data,
                        Y = buffers["y"].Data,
                        BatchMean = buffers["batchMean"].Data,
                        BatchVariance = buffers["batchVariance"].Data,
                        BatchInvStd = buffers["batchInvStd"].Data,
                        RunningMean = running ? buffers["runningMean"].Data : [],
                        RunningVariance = running ? buffers["runningVariance"].Data : [],
                    });
                    break;
                case BatchNormPass.ForwardInference:
                    Input("runningMean", inputs.RunningMean);
                    Input("runningVariance", inputs.RunningVariance);
                    Output("y", n);
                    kernel.ForwardInference(shape, @case.Options, new ForwardInferenceTensors<float>
                    {
                        X = buffers["x"].Data,
                        Gamma = buffers["gamma"].Data,
                        Beta = buffers["beta"].Data,
                        RunningMean = buffers["runningMean"].Data,
                        RunningVariance = buffers["runningVariance"].Data,
                        Y = buffers["y"].Data,
                    });
                    break;
                case BatchNormPass.BackwardTraining:
                    Input("dy", inputs.Dy);
                    Input("savedMean", inputs.SavedMean);
                    Input("savedInvStd", inputs.SavedInvStd);
                    Output("dx", n);
                    Output("dgamma", c);
                    Output("dbeta", c);
                    kernel.BackwardTraining(shape, new BackwardTrainingTensors<float>
                    {
                        X = buffers["x"].Data,
                        Dy = buffers["dy"].Data,
                        Gamma = buffers["gamma"].Data,
                        SavedMean = buffers["savedMean"].Data,
                        SavedInvStd = buffers["savedInvStd"].Data,
                        Dx = buffers["dx"].Data,
                        DGamma = buffers["dgamma"].Data,
                        DBeta = buffers["dbeta"].Data,
                    });
                    break;
                default:
                    Input("dy", inputs.Dy);
                    Input("runningMean", inputs.RunningMean);
                    Input("runningVariance", inputs.RunningVariance);
                    Output("dx", n);
                    Output("dgamma", c);
                    Output("dbeta", c);
                    kernel.BackwardInference(shape, @case.Options, new BackwardInferenceTensors<float>
                    {
                        X = buffers["x"].Data,
                        Dy = buffers["dy"].Data,
                        Gamma = buffers["gamma"].Data,
                        RunningMean = buffers["runningMean"].Data,
                        RunningVariance = buffers["runningVariance"].Data,
                        Dx = buffers["dx"].Data,
                        DGamma = buffers["dgamma"].Data,
                        DBeta = buffers["dbeta"].Data,
                    });
                    break;
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or ArithmeticException or IndexOutOfRangeException)
        {
            violations.Add($"the kernel threw {e.GetType().Name}: {e.Message}");
        }

        foreach (var (name, buffer) in buffers)
        {
            if (buffer.CanaryViolation(name) is { } violation)
                violations.Add(violation);
        }

        foreach (string name in inputNames)
        {
            if (!buffers[name].Data.SequenceEqual(Original(name, inputs)))
                violations.Add($"{name}: the kernel changed an input");
        }

        return new KernelRun
        {
            Outputs = outputNames.ToDictionary(name => name, name => buffers[name].ToArray()),
            Violations = violations,
        };
    }

    private static float[] Original(string name, CaseInputs inputs) => name switch
    {
        "x" => inputs.X,
        "gamma" => inputs.Gamma,
        "beta" => inputs.Beta,
        "dy" => inputs.Dy,
        "savedMean" => inputs.SavedMean,
        "savedInvStd" => inputs.SavedInvStd,
        "runningMean" => inputs.RunningMean,
        _ => inputs.RunningVariance,
    };
}
