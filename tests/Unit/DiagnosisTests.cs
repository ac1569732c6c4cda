using BatchNorm.Harness;
using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Detectors;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Reports;
using BatchNorm.Harness.Verification;
using Xunit;
using Xunit.Abstractions;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// The diagnosis names the bug: realistic bugs planted in the optimized kernel's real outputs (and the zoo's planted
/// kernels) on every case of the quick suite; of the cases each bug fails, the share whose diagnosis line names its
/// kind. Issue 27's bar: at least 95% overall and no kind below 85%; a diagnosis naming another kind is a false claim
/// and is listed in the output.
/// </summary>
public class DiagnosisTests(ITestOutputHelper output)
{
    /// <summary>A bug: its name, the kind a diagnosis must name, and the kernel that carries it.</summary>
    private sealed record PlantedBug(string Name, BugKind Kind, Func<IBatchNormKernel> Kernel, Activation Activation = Activation.None);

    private static IBatchNormKernel Optimized() => KernelCatalog.Create("optimized");

    private static readonly PlantedBug[] Bugs =
    [
        new("y: every 2nd element never written", BugKind.Stride, () => new Planted(Optimized(), y: (in TensorShape s, Span<float> y) =>
        {
            for (int i = 1; i < y.Length; i += 2)
                y[i] = float.NaN;
        })),
        new("dx: every 4th element left holding dy", BugKind.Stride, () => new Planted(Optimized(), backward: (in TensorShape s, in BackwardTrainingTensors<float> t) =>
        {
            for (int i = 3; i < t.Dx.Length; i += 4)
                t.Dx[i] = t.Dy[i];
        })),
        new("y: stored one element late", BugKind.Shift, () => new Planted(Optimized(), y: (in TensorShape s, Span<float> y) =>
        {
            for (int i = y.Length - 1; i > 0; i--)
                y[i] = y[i - 1];
        })),
        new("y: channel 0 holds x", BugKind.StaleValue, () => new Planted(Optimized(), copyXToChannel0: true)),
        new("running mean not updated", BugKind.StaleValue, () => new Planted(Optimized(), keepRunningMean: true)),
        new("dx: sample 0 negated", BugKind.SignOrScale, () => new Planted(Optimized(), backward: (in TensorShape s, in BackwardTrainingTensors<float> t) =>
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int sp = 0; sp < s.S; sp++)
                    t.Dx[(int)s.IndexOf(0, c, sp)] = -t.Dx[(int)s.IndexOf(0, c, sp)];
            }
        })),
        new("y: channel 1 scaled by 1.25", BugKind.SignOrScale, () => new Planted(Optimized(), y: (in TensorShape s, Span<float> y) =>
        {
            if (s.C > 1)
            {
                foreach (int i in s.ChannelOffsets(1))
                    y[i] *= 1.25f;
            }
        })),
        new("dbeta: sample 0 left out", BugKind.MissingTerm, () => new Planted(Optimized(), backward: (in TensorShape s, in BackwardTrainingTensors<float> t) =>
        {
            for (int c = 0; c < s.C; c++)
            {
                double sum = 0;
                for (int sp = 0; sp < s.S; sp++)
                    sum += t.Dy[(int)s.IndexOf(0, c, sp)];
                t.DBeta[c] = (float)(t.DBeta[c] - sum);
            }
        })),
        new("dgamma: the last sample left out", BugKind.MissingTerm, () => new Planted(Optimized(), backward: (in TensorShape s, in BackwardTrainingTensors<float> t) =>
        {
            for (int c = 0; c < s.C; c++)
            {
                double sum = 0;
                for (int sp = 0; sp < s.S; sp++)
                {
                    int i = (int)s.IndexOf(s.N - 1, c, sp);
                    sum += t.Dy[i] * ((t.X[i] - (double)t.SavedMean[c]) * t.SavedInvStd[c]);
                }

                t.DGamma[c] = (float)(t.DGamma[c] - sum);
            }
        })),
        new("y: gamma from the next channel", BugKind.Formula, () => new Planted(Optimized(), gammaFromNextChannel: true)),
        new("inference with the batch's statistics", BugKind.Formula, () => new Planted(Optimized(), batchStatisticsInInference: true)),
        new("faulty:relu-gate-from-x", BugKind.Gate, () => KernelCatalog.Create("faulty:relu-gate-from-x"), Activation.Relu),
        new("faulty:relu-gate-inclusive", BugKind.Gate, () => KernelCatalog.Create("faulty:relu-gate-inclusive"), Activation.Relu),
        new("faulty:bf16-truncated", BugKind.RoundingDirection, () => KernelCatalog.Create("faulty:bf16-truncated")),
        new("faulty:eps-outside-sqrt", BugKind.Formula, () => KernelCatalog.Create("faulty:eps-outside-sqrt")),
        new("faulty:unbiased-normalize", BugKind.Formula, () => KernelCatalog.Create("faulty:unbiased-normalize")),
        new("faulty:momentum-reversed", BugKind.Formula, () => KernelCatalog.Create("faulty:momentum-reversed")),
        new("faulty:tail-skipped", BugKind.Tail, () => KernelCatalog.Create("faulty:tail-skipped")),
        new("faulty:tail-wrong-stride", BugKind.Tail, () => KernelCatalog.Create("faulty:tail-wrong-stride")),
    ];

    /// <summary>The quick suite in CI; BNVERIFY_DIAGNOSIS_SUITE=full measures the full one (about ten minutes on two cores).</summary>
    private static Suite MeasuredSuite => Environment.GetEnvironmentVariable("BNVERIFY_DIAGNOSIS_SUITE") == "full" ? Suite.Full : Suite.Quick;

    [Fact]
    public void TheDiagnosisNamesThePlantedBugOnAtLeast95PercentOfTheCasesItFails()
    {
        int named = 0, failed = 0;
        var perBug = new List<string>();
        var falseClaims = new List<string>();
        var belowBar = new List<string>();
        foreach (var bug in Bugs)
        {
            var kernel = bug.Kernel();
            var results = Verifier.Run(kernel, Battery.For(MeasuredSuite, bug.Activation, kernel.Precision), Battery.DefaultSeed).Where(r => r.Verdict == Verdict.Failed).ToList();
            int right = results.Count(r => r.Diagnosis?.Finding.Kind == bug.Kind);
            falseClaims.AddRange(results.Where(r => r.Diagnosis is { } d && d.Finding.Kind != bug.Kind).Select(r => $"{bug.Name} on {r.Case.Name}: {r.Diagnosis!.Value.Finding.Line}"));
            perBug.Add($"{bug.Name} ({bug.Kind}): {right} of {results.Count}");
            if (results.Count == 0 || right < 0.85 * results.Count)
            {
                belowBar.Add($"{bug.Name}: {right} of {results.Count} named {bug.Kind}\n" +
                             string.Join("\n", results.Where(r => r.Diagnosis?.Finding.Kind != bug.Kind).Take(3).Select(TextReport.Failure)));
            }

            named += right;
            failed += results.Count;
        }

        output.WriteLine($"named the bug on {named} of {failed} failing cases");
        perBug.ForEach(output.WriteLine);
        output.WriteLine($"false claims ({falseClaims.Count}):");
        falseClaims.ForEach(output.WriteLine);
        Assert.True(belowBar.Count == 0, string.Join("\n", belowBar));
        Assert.True(named >= 0.95 * failed, $"{named} of {failed}");
    }

    /// <summary>
    /// The one-pass variance (E[x²] − E[x]² in float) is named where it cancels, a mean at least twice the spread: there
    /// its negative or mean²-sized variance makes istd and y NaN, which read as unwritten elements or a tail before the
    /// cancellation detector. Where the mean is near 0 it is a float sum of squares, as legitimate in form as any, and no
    /// detector may claim it.
    /// </summary>
    [Fact]
    public void TheOnePassVarianceIsNamedWhereItCancels()
    {
        var failed = Verifier.Run(KernelCatalog.Create("faulty:one-pass-variance"), Battery.For(Suite.Quick), Battery.DefaultSeed).Where(r => r.Verdict == Verdict.Failed).ToList();
        var cancelling = failed.Where(r => r.Case.Offset >= 2 * r.Case.Spread).ToList();
        Assert.Equal(7, cancelling.Count); // large-mean-1e4 (2 layouts), large-mean-1e6, exact-pairs (2), constant-channel (2)
        Assert.All(cancelling, r =>
        {
            Assert.Equal((BatchNormOutput.BatchVariance, BugKind.Formula), (r.Diagnosis?.Output, r.Diagnosis?.Finding.Kind));
            Assert.StartsWith("formula: batchVariance = E[x²] − E[x]² in float", r.Diagnosis!.Value.Finding.Line, StringComparison.Ordinal);
        });
        Assert.All(failed.Except(cancelling), r => Assert.Null(r.Diagnosis));
    }

    /// <summary>
    /// No reading within the allowance of the truth: oneDNN's y on a constant channel (variance 0, so a wide bound) was
    /// off by 0.44 and read as "beta from the next channel", whose beta was 0.44 away, inside twice that channel's
    /// allowance. Planted here on the case hunt found it in: channel 0's y holds exactly the neighbour's beta, and no
    /// coefficient reading may be claimed; on channel 1, whose bound is narrow, the same plant is named.
    /// </summary>
    [Fact]
    public void ACoefficientReadingWithinTheTruthsAllowanceIsNotClaimed()
    {
        var @case = Harness.Exchange.CaseFile.Parse("""
            {"format": "bnverify-case/1", "name": "hunt-1a709de7/nhwc/train", "seed": 443588071, "pass": "train", "layout": "nhwc", "n": 3, "c": 3,
             "s": 1025, "convention": "pytorch", "eps": 1E-05, "momentum": 0.1, "activation": "none", "precision": "fp32", "values": "normal",
             "offset": 100, "spread": 1, "feature": "constant", "gamma": "random", "with_beta": true, "with_running_stats": true, "zero_dy": false,
             "about_zeros": false}
            """, "case.json");
        var inputs = CaseInputs.Draw(@case, Battery.DefaultSeed);
        // Judged as oneDNN was, by the contract it declares.
        var expected = Harness.Comparison.ExpectedOutputs.Compute(@case, inputs, NumericalContract.Parse("float-lanes:16/two-pass/centred"));
        var y = expected.Single(e => e.Name == BatchNormOutput.Y);
        BugFinding? Plant(int channel, Func<int, float> value)
        {
            float[] actual = Array.ConvertAll(y.Values, v => (float)v);
            foreach (int i in @case.Shape.ChannelOffsets(channel))
                actual[i] = value(i);
            return CoefficientDetector.Detect(Damage.Of(@case, inputs, expected, y, actual)!);
        }

        // oneDNN's value on the constant channel 0: over its bound, and within it of channel 1's beta.
        Assert.Null(Plant(0, _ => 0.37961036f));
        Assert.Equal("formula: y takes beta from the next channel (a coefficient index off by 1): 3075 elements",
            Plant(1, i => (float)(y.Values[i] - inputs.Beta[1] + inputs.Beta[2]))?.Line);
    }

    /// <summary>A correct kernel's outputs give no diagnosis: the detectors run on failures only, and a passing case has none.</summary>
    [Fact]
    public void APassingCaseHasNoDiagnosis()
    {
        var results = Verifier.Run(Optimized(), Battery.For(Suite.Quick), Battery.DefaultSeed);
        Assert.All(results, r => Assert.Null(r.Diagnosis));
    }

    private delegate void YPlant(in TensorShape shape, Span<float> y);

    private delegate void BackwardPlant(in TensorShape shape, in BackwardTrainingTensors<float> t);

    /// <summary>The correct kernel, then one bug planted in its outputs.</summary>
    private sealed class Planted(IBatchNormKernel correct, YPlant? y = null, BackwardPlant? backward = null, bool copyXToChannel0 = false, bool keepRunningMean = false,
        bool gammaFromNextChannel = false, bool batchStatisticsInInference = false) : IBatchNormKernel
    {
        public string Name => "planted";

        public NumericalContract? Contract => correct.Contract;

        public void ForwardTraining(in TensorShape shape, BatchNormOptions options, in ForwardTrainingTensors<float> t)
        {
            float[] runningMean = t.RunningMean.ToArray();
            correct.ForwardTraining(shape, options, gammaFromNextChannel ? t with { Gamma = NextChannel(t.Gamma) } : t);
            y?.Invoke(shape, t.Y);
            if (copyXToChannel0)
            {
                foreach (int i in shape.ChannelOffsets(0))
                    t.Y[i] = t.X[i];
            }

            if (keepRunningMean)
                runningMean.CopyTo(t.RunningMean);
        }

        public void ForwardInference(in TensorShape shape, BatchNormOptions options, in ForwardInferenceTensors<float> t)
        {
            if (batchStatisticsInInference)
            {
                // The training forward's normalization, its batch statistics thrown away.
                int c = shape.C;
                correct.ForwardTraining(shape, options, new ForwardTrainingTensors<float>
                {
                    X = t.X,
                    Gamma = t.Gamma,
                    Beta = t.Beta,
                    Y = t.Y,
                    BatchMean = new float[c],
                    BatchVariance = new float[c],
                    BatchInvStd = new float[c],
                });
                return;
            }

            correct.ForwardInference(shape, options, gammaFromNextChannel ? t with { Gamma = NextChannel(t.Gamma) } : t);
            y?.Invoke(shape, t.Y);
            if (copyXToChannel0)
            {
                foreach (int i in shape.ChannelOffsets(0))
                    t.Y[i] = t.X[i];
            }
        }

        /// <summary>Each channel's gamma replaced by the next channel's (the last keeps its own): an index off by one.</summary>
        private static float[] NextChannel(ReadOnlySpan<float> gamma)
        {
            float[] shifted = gamma.ToArray();
            for (int c = 0; c + 1 < shifted.Length; c++)
                shifted[c] = gamma[c + 1];
            return shifted;
        }

        public void BackwardTraining(in TensorShape shape, in BackwardTrainingTensors<float> t)
        {
            correct.BackwardTraining(shape, t);
            backward?.Invoke(shape, t);
        }

        public void BackwardInference(in TensorShape shape, BatchNormOptions options, in BackwardInferenceTensors<float> t) => correct.BackwardInference(shape, options, t);
    }
}
