using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Kernels;

namespace BatchNorm.Harness.Benchmarks;

/// <summary>
/// One kernel's buffers for every pass over one shape, filled once, and one call of a pass on
/// them: the workload that benchmarks time and the allocation test repeats. x, dy, gamma and beta
/// are standard normal draws from a fixed seed; one training forward at construction fills the
/// batch statistics, which inference then uses as its running statistics and backward as its
/// saved ones, so every pass runs on realistic values. With a fused ReLU the forward passes apply
/// it and the backward passes take that first forward's y as their forwardY.
/// <see cref="Run"/> allocates nothing.
/// </summary>
internal sealed class PassWorkload
{
    private readonly IBatchNormKernel kernel;
    private readonly TensorShape shape;
    private readonly BatchNormOptions options;

    public PassWorkload(IBatchNormKernel kernel, in TensorShape shape, int seed = 1, Activation activation = Activation.None)
    {
        this.kernel = kernel;
        this.shape = shape;
        options = BatchNormOptions.PyTorch with { Activation = activation };
        int n = shape.ElementCount, c = shape.C;
        var random = new Random(seed);
        (X, Dy, Gamma, Beta) = (Normal(n, random), Normal(n, random), Normal(c, random), Normal(c, random));
        (Y, Dx) = (new float[n], new float[n]);
        (BatchMean, BatchVariance, BatchInvStd, DGamma, DBeta) = (new float[c], new float[c], new float[c], new float[c], new float[c]);
        (RunningMean, RunningVariance) = (new float[c], Enumerable.Repeat(1f, c).ToArray());
        Run(BatchNormPass.ForwardTraining);
        ForwardY = activation == Activation.Relu ? (float[])Y.Clone() : [];
    }

    /// <summary>The first training forward's y under a fused ReLU (the backward passes' forwardY); empty without one.</summary>
    public float[] ForwardY { get; }

    public float[] X { get; }

    public float[] Dy { get; }

    public float[] Gamma { get; }

    public float[] Beta { get; }

    public float[] Y { get; }

    public float[] Dx { get; }

    public float[] BatchMean { get; }

    public float[] BatchVariance { get; }

    public float[] BatchInvStd { get; }

    public float[] RunningMean { get; }

    public float[] RunningVariance { get; }

    public float[] DGamma { get; }

    public float[] DBeta { get; }

    /// <summary>Runs one pass; training forward also updates the running statistics.</summary>
    public void Run(BatchNormPass pass) => RunWith(kernel, pass);

    /// <summary>Runs one pass of another kernel on these same buffers (an anchor timed against this workload's kernel).</summary>
    public void RunWith(IBatchNormKernel other, BatchNormPass pass)
    {
        switch (pass)
        {
            case BatchNormPass.ForwardTraining:
                other.ForwardTraining(shape, options, new ForwardTrainingTensors<float>
                {
                    X = X,
                    Gamma = Gamma,
                    Beta = Beta,
                    Y = Y,
                    BatchMean = BatchMean,
                    BatchVariance = BatchVariance,
                    BatchInvStd = BatchInvStd,
                    RunningMean = RunningMean,
                    RunningVariance = RunningVariance,
                });
                break;
            case BatchNormPass.ForwardInference:
                other.ForwardInference(shape, options, new ForwardInferenceTensors<float>
                {
                    X = X,
                    Gamma = Gamma,
                    Beta = Beta,
                    RunningMean = BatchMean,
                    RunningVariance = BatchVariance,
                    Y = Y,
                });
                break;
            case BatchNormPass.BackwardTraining:
                other.BackwardTraining(shape, new BackwardTrainingTensors<float>
                {
                    X = X,
                    Dy = Dy,
                    ForwardY = ForwardY,
                    Gamma = Gamma,
                    SavedMean = BatchMean,
                    SavedInvStd = BatchInvStd,
                    Dx = Dx,
                    DGamma = DGamma,
                    DBeta = DBeta,
                });
                break;
            case BatchNormPass.BackwardInference:
                other.BackwardInference(shape, options, new BackwardInferenceTensors<float>
                {
                    X = X,
                    Dy = Dy,
                    ForwardY = ForwardY,
                    Gamma = Gamma,
                    RunningMean = BatchMean,
                    RunningVariance = BatchVariance,
                    Dx = Dx,
                    DGamma = DGamma,
                    DBeta = DBeta,
                });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(pass), pass, "not a batch norm pass");
        }
    }

    private static float[] Normal(int length, Random random)
    {
        float[] values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)CaseInputs.Normal(random);
        return values;
    }
}
