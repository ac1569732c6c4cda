using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Comparison;

namespace BatchNorm.Harness.Detectors;

/// <summary>
/// What a bug detector sees of one failing output: the case and its inputs, every expected output, the kernel's
/// values of this one, and which elements are damaged: a NaN or infinity where the reference has none (or the other
/// way), or an error beyond the element's combined bound plus half the format's gap. The damaged set is the raw one,
/// before any fit, so a bug that spoils half a channel is seen as the elements it spoiled.
/// </summary>
internal sealed class Damage
{
    private Damage(VerificationCase @case, CaseInputs inputs, IReadOnlyList<ExpectedOutput> expected, ExpectedOutput output, float[] actual, int[] damaged)
    {
        Case = @case;
        Inputs = inputs;
        AllExpected = expected;
        Output = output;
        Actual = actual;
        Damaged = damaged;
    }

    public VerificationCase Case { get; }

    public TensorShape Shape => Case.Shape;

    public CaseInputs Inputs { get; }

    /// <summary>Every expected output of the case (a detector of a formula mistake reads the statistics beside the output it explains).</summary>
    public IReadOnlyList<ExpectedOutput> AllExpected { get; }

    public ExpectedOutput Output { get; }

    public double[] Expected => Output.Values;

    public float[] Actual { get; }

    /// <summary>Indices of the damaged elements, ascending.</summary>
    public int[] Damaged { get; }

    public bool Elementwise => Output.Name.IsElementwise();

    /// <summary>The share of the damage a reading must explain to be named: a bug explains its damage, rounding does not make any.</summary>
    public const double ExplainedShare = 0.9;

    /// <summary>True when <paramref name="explained"/> elements are enough to name a reading: at least one and <see cref="ExplainedShare"/> of the damaged.</summary>
    public bool Explains(int explained) => explained > 0 && explained >= ExplainedShare * Damaged.Length;

    /// <summary>The expected values of another output of the case, or null when it has none.</summary>
    public double[]? ExpectedOf(BatchNormOutput output) => AllExpected.FirstOrDefault(e => e.Name == output)?.Values;

    /// <summary>True when <paramref name="value"/> is, within element <paramref name="i"/>'s bound, what the reference expects at <paramref name="j"/>.</summary>
    public bool Matches(float value, int j, int i) =>
        float.IsNaN(value) ? double.IsNaN(Expected[j]) : Math.Abs(value - Expected[j]) <= Tolerance(i) + Tolerance(j);

    /// <summary>
    /// True when a wrong reading's value at element i is far enough from the expected one that the two cannot both
    /// match the kernel's value within its allowance: a reading that close to the truth explains nothing.
    /// </summary>
    public bool Distinguishable(int i, double wrong) => Math.Abs(wrong - Expected[i]) > 2 * Tolerance(i);

    /// <summary>Element i's allowance: its bound plus half the format's gap at the kernel's value.</summary>
    public double Tolerance(int i) => Allowance(Output, Actual[i], i);

    private static double Allowance(ExpectedOutput output, float actual, int i) =>
        (double.IsNaN(output.Bounds[i]) ? 0 : output.Bounds[i]) + (DataPrecisions.WidestGap(actual, output.Precision) / 2);

    /// <summary>The damage of one output, or null when no element is damaged (a failure of the structured model alone: a systematic error too small to show element by element).</summary>
    public static Damage? Of(VerificationCase @case, CaseInputs inputs, IReadOnlyList<ExpectedOutput> expected, ExpectedOutput output, float[] actual)
    {
        var damaged = new List<int>();
        for (int i = 0; i < actual.Length; i++)
        {
            double e = output.Values[i];
            float a = actual[i];
            bool expectedFinite = float.IsFinite((float)e), actualFinite = float.IsFinite(a);
            if (expectedFinite != actualFinite || (expectedFinite && Math.Abs(a - e) > Allowance(output, a, i)))
                damaged.Add(i);
        }

        return damaged.Count == 0 ? null : new Damage(@case, inputs, expected, output, actual, [.. damaged]);
    }

    /// <summary>The mean and istd dgamma's xhat uses: the saved ones of a training backward, the running ones of an inference backward, else x's own.</summary>
    public (double[] Mean, double[] InvStd) XhatStatistics()
    {
        var s = Shape;
        var inputs = Inputs;
        if (inputs.SavedMean.Length == s.C && inputs.SavedInvStd.Length == s.C && Case.Pass == BatchNormPass.BackwardTraining)
            return (Array.ConvertAll(inputs.SavedMean, v => (double)v), Array.ConvertAll(inputs.SavedInvStd, v => (double)v));
        if (Case.Pass == BatchNormPass.BackwardInference && inputs.RunningMean.Length == s.C)
            return (Array.ConvertAll(inputs.RunningMean, v => (double)v), [.. inputs.RunningVariance.Select(v => 1 / Math.Sqrt(v + Case.Options.Epsilon))]);
        double[] mean = new double[s.C], istd = new double[s.C];
        for (int c = 0; c < s.C; c++)
        {
            double sum = 0, squares = 0;
            foreach (int i in s.ChannelOffsets(c))
                sum += inputs.X[i];
            mean[c] = sum / s.M;
            foreach (int i in s.ChannelOffsets(c))
                squares += (inputs.X[i] - mean[c]) * (inputs.X[i] - mean[c]);
            istd[c] = 1 / Math.Sqrt((squares / s.M) + Case.Options.Epsilon);
        }

        return (mean, istd);
    }
}
