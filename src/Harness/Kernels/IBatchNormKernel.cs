namespace BatchNorm.Harness.Kernels;

/// <summary>
/// A float32 batch norm implementation under test: the optimized kernel at some width, the plain
/// scalar baseline, a planted-bug kernel, or a user's own. Each method has the semantics and
/// argument rules of docs/semantics.md; the harness verifies them all the same way.
/// </summary>
public interface IBatchNormKernel
{
    /// <summary>The name <c>bnverify verify --kernel</c> accepts.</summary>
    string Name { get; }

    /// <summary>
    /// True when its forward passes fuse <paramref name="activation"/> (options.Activation) and its
    /// backward passes take the forward's y for it (forwardY); <c>verify --activation</c> refuses a
    /// kernel that does not. Every kernel supports <see cref="Activation.None"/>, and by default only that.
    /// </summary>
    bool Supports(Activation activation) => activation == Activation.None;

    /// <summary>
    /// The format it stores its data tensors (x, y, dy, dx, forwardY) in; default float32. The
    /// verifier then draws its inputs as values of that format, requires its outputs to be values of
    /// it, and allows for the rounding to it (docs/tolerances.md, "Reduced precision").
    /// </summary>
    DataPrecision Precision => DataPrecision.Float32;

    /// <summary>
    /// How it computes (its sums, its statistics, how it applies them): the verifier derives its bounds from
    /// this, so a kernel that declares an accurate contract is held to tight bounds, and one that uses a
    /// less accurate but legitimate algorithm (float Welford, a fold without FMA) is not failed for it.
    /// Null (the default) means undeclared: the kernel is held to <see cref="NumericalContract.Default"/>,
    /// and <c>verify</c> says which tighter contract it met (docs/tolerances.md, "Contracts").
    /// </summary>
    NumericalContract? Contract => null;

    /// <summary>Training forward with the running-statistics update.</summary>
    void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t);

    /// <summary>Inference forward from running statistics.</summary>
    void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t);

    /// <summary>Training backward from saved batch statistics.</summary>
    void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t);

    /// <summary>Inference backward with running statistics as constants.</summary>
    void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t);
}
