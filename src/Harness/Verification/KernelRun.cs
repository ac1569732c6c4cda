using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Verification;

/// <summary>One call of a kernel on a case's inputs: its outputs, and what it did wrong beyond its values.</summary>
internal sealed class KernelRun
{
    public IReadOnlyDictionary<BatchNormOutput, float[]> Outputs { get; private init; } = new Dictionary<BatchNormOutput, float[]>();

    /// <summary>Writes outside an output, changes to an input, an exception.</summary>
    public IReadOnlyList<string> Violations { get; private init; } = [];

    /// <summary>Runs the case's pass on guarded copies of its inputs.</summary>
    public static KernelRun Execute(IBatchNormKernel kernel, VerificationCase @case, CaseInputs inputs)
    {
        var shape = @case.Shape;
        int n = shape.ElementCount, c = shape.C;
        var inputs_ = new Dictionary<BatchNormInput, GuardedBuffer>();
        var outputs = new Dictionary<BatchNormOutput, GuardedBuffer>();
        var violations = new List<string>();
        bool relu = @case.Options.Activation == Activation.Relu;

        Span<float> In(BatchNormInput name)
        {
            if (!inputs_.TryGetValue(name, out var buffer))
                inputs_[name] = buffer = GuardedBuffer.Of(inputs[name]);
            return buffer.Data;
        }

        Span<float> Out(BatchNormOutput name)
        {
            if (!outputs.TryGetValue(name, out var buffer))
            {
                outputs[name] = buffer = name switch
                {
                    // The running statistics are updated in place: they start as the inputs' values.
                    BatchNormOutput.RunningMean => GuardedBuffer.Of(inputs.RunningMean),
                    BatchNormOutput.RunningVariance => GuardedBuffer.Of(inputs.RunningVariance),
                    BatchNormOutput.Y or BatchNormOutput.Dx => GuardedBuffer.Output(n),
                    BatchNormOutput.BatchMean or BatchNormOutput.BatchVariance or BatchNormOutput.BatchInvStd or BatchNormOutput.DGamma or BatchNormOutput.DBeta
                        => GuardedBuffer.Output(c),
                    // Stryker disable once String : unreachable, every call names an output of the closed enum.
                    _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a batch norm output"),
                };
            }

            return buffer.Data;
        }

        try
        {
            switch (@case.Pass)
            {
                case BatchNormPass.ForwardTraining:
                    bool running = @case.WithRunningStats;
                    kernel.ForwardTraining(shape, @case.Options, new ForwardTrainingTensors<float>
                    {
                        X = In(BatchNormInput.X),
                        Gamma = In(BatchNormInput.Gamma),
                        Beta = In(BatchNormInput.Beta),
                        Y = Out(BatchNormOutput.Y),
                        BatchMean = Out(BatchNormOutput.BatchMean),
                        BatchVariance = Out(BatchNormOutput.BatchVariance),
                        BatchInvStd = Out(BatchNormOutput.BatchInvStd),
                        RunningMean = running ? Out(BatchNormOutput.RunningMean) : [],
                        RunningVariance = running ? Out(BatchNormOutput.RunningVariance) : [],
                    });
                    break;
                case BatchNormPass.ForwardInference:
                    kernel.ForwardInference(shape, @case.Options, new ForwardInferenceTensors<float>
                    {
                        X = In(BatchNormInput.X),
                        Gamma = In(BatchNormInput.Gamma),
                        Beta = In(BatchNormInput.Beta),
                        RunningMean = In(BatchNormInput.RunningMean),
                        RunningVariance = In(BatchNormInput.RunningVariance),
                        Y = Out(BatchNormOutput.Y),
                    });
                    break;
                case BatchNormPass.BackwardTraining:
                    kernel.BackwardTraining(shape, new BackwardTrainingTensors<float>
                    {
                        X = In(BatchNormInput.X),
                        Dy = In(BatchNormInput.Dy),
                        Gamma = In(BatchNormInput.Gamma),
                        SavedMean = In(BatchNormInput.SavedMean),
                        SavedInvStd = In(BatchNormInput.SavedInvStd),
                        ForwardY = relu ? In(BatchNormInput.ForwardY) : [],
                        Dx = Out(BatchNormOutput.Dx),
                        DGamma = Out(BatchNormOutput.DGamma),
                        DBeta = Out(BatchNormOutput.DBeta),
                    });
                    break;
                case BatchNormPass.BackwardInference:
                    kernel.BackwardInference(shape, @case.Options, new BackwardInferenceTensors<float>
                    {
                        X = In(BatchNormInput.X),
                        Dy = In(BatchNormInput.Dy),
                        Gamma = In(BatchNormInput.Gamma),
                        RunningMean = In(BatchNormInput.RunningMean),
                        RunningVariance = In(BatchNormInput.RunningVariance),
                        ForwardY = relu ? In(BatchNormInput.ForwardY) : [],
                        Dx = Out(BatchNormOutput.Dx),
                        DGamma = Out(BatchNormOutput.DGamma),
                        DBeta = Out(BatchNormOutput.DBeta),
                    });
                    break;
                default:
                    // Stryker disable once String : unreachable, the pass is one of the closed enum's four.
                    throw new ArgumentOutOfRangeException(nameof(@case), @case.Pass, "not a batch norm pass");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException and not Adapters.AdapterException)
        {
            // Whatever a kernel under test throws is its failure on this case, not bnverify's.
            violations.Add($"the kernel threw {e.GetType().Name}: {e.Message}");
        }

        foreach (var (name, buffer) in inputs_)
        {
            if (buffer.CanaryViolation(name.Name()) is { } violation)
                violations.Add(violation);
            if (!buffer.Data.SequenceEqual(inputs[name]))
                violations.Add($"{name.Name()}: the kernel changed an input");
        }

        foreach (var (name, buffer) in outputs)
        {
            if (buffer.CanaryViolation(name.Name()) is { } violation)
                violations.Add(violation);
        }

        return new KernelRun
        {
            Outputs = outputs.ToDictionary(o => o.Key, o => o.Value.ToArray()),
            Violations = violations,
        };
    }
}
