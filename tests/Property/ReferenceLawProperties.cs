using BatchNorm.Reference;
using BatchNorm.Tests.Property.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static BatchNorm.Tests.Property.Infrastructure.Checks;

namespace BatchNorm.Tests.Property;

/// <summary>
/// Property 3: the laws of batch norm, on the reference in double. Tolerances are 1e-9 of each
/// quantity's natural scale: the reference's compensated sums are accurate to a few units of
/// 2^-53, and a wrong formula is off by O(1) of that scale.
/// </summary>
public class ReferenceLawProperties(ITestOutputHelper output)
{
    private const double Tolerance = 1e-9;
    private static readonly Values[] Finite = [Values.Normal, Values.LargeOffset, Values.Tiny, Values.ConstantChannels, Values.MixedScales];

    [Fact]
    public void EachChannelOfYHasMeanBetaAndVarianceGammaSquaredVarOverVarPlusEps() =>
        PropertyRunner.Check(output, "reference-moments", Generators.Cases(Finite), c =>
        {
            var r = Reference.Train(c);
            for (int ch = 0; ch < c.Shape.C; ch++)
            {
                double[] y = c.Shape.ChannelOffsets(ch).Select(i => r.Y[i]).ToArray();
                double mean = y.Average(), variance = y.Select(v => (v - mean) * (v - mean)).Average();
                double gamma = r.Gamma(ch), beta = r.Beta(ch);
                Close(mean, beta, Tolerance * (Math.Abs(beta) + Math.Abs(gamma)), "mean of y is beta");
                Close(variance, gamma * gamma * r.Variance[ch] / (r.Variance[ch] + c.Options.Epsilon), Tolerance * gamma * gamma, "variance of y is gamma^2 var/(var + eps)");
            }
        });

    [Fact]
    public void AddingAChannelConstantOrScalingXAndEpsLeavesYUnchanged() =>
        PropertyRunner.Check(output, "reference-invariance", Generators.Cases(Finite), c =>
        {
            var r = Reference.Train(c);
            double[] shifted = (double[])r.X.Clone(), scaled = (double[])r.X.Clone();
            const double a = 3.7;
            for (int ch = 0; ch < c.Shape.C; ch++)
            {
                double k = 3 * Math.Sqrt(r.Variance[ch]) + 0.5 * Math.Abs(r.Mean[ch]);
                foreach (int i in c.Shape.ChannelOffsets(ch))
                {
                    shifted[i] += k;
                    scaled[i] *= a;
                }
            }

            var moved = Reference.Train(c, shifted);
            var stretched = Reference.Train(c with { Options = c.Options with { Epsilon = c.Options.Epsilon * a * a } }, scaled);
            for (int i = 0; i < r.Y.Length; i++)
            {
                double scale = Tolerance * (1 + Math.Abs(r.Y[i]) + Math.Abs(r.Gamma(c.Shape.CoordinatesOf(i).C)));
                Close(moved.Y[i], r.Y[i], scale, $"y(x + k_c) = y(x) at {i}");
                Close(stretched.Y[i], r.Y[i], scale, $"y(a x; a^2 eps) = y(x; eps) at {i}");
            }
        });

    [Fact]
    public void PermutingSamplesPermutesYAndChannelsAreIndependent() =>
        PropertyRunner.Check(output, "reference-permutation-independence", Generators.Cases(Finite), c =>
        {
            var r = Reference.Train(c);
            var shape = c.Shape;
            int[] order = Enumerable.Range(0, shape.N).Reverse().ToArray();
            double[] permuted = new double[r.X.Length], changed = (double[])r.X.Clone();
            for (int n = 0; n < shape.N; n++)
            {
                for (int ch = 0; ch < shape.C; ch++)
                {
                    for (int s = 0; s < shape.S; s++)
                        permuted[shape.IndexOf(n, ch, s)] = r.X[shape.IndexOf(order[n], ch, s)];
                }
            }

            foreach (int i in shape.ChannelOffsets(0))
                changed[i] = changed[i] * 2 + 1;
            var p = Reference.Train(c, permuted);
            var q = Reference.Train(c, changed);
            for (int n = 0; n < shape.N; n++)
            {
                for (int ch = 0; ch < shape.C; ch++)
                {
                    for (int s = 0; s < shape.S; s++)
                    {
                        long i = shape.IndexOf(n, ch, s);
                        Close(p.Y[i], r.Y[shape.IndexOf(order[n], ch, s)], Tolerance * (1 + Math.Abs(r.Y[i])), "permuting samples permutes y");
                        if (ch != 0 && BitConverter.DoubleToInt64Bits(q.Y[i]) != BitConverter.DoubleToInt64Bits(r.Y[i]))
                            throw new LawViolation($"changing channel 0 changed y at (n={n}, c={ch}, s={s})");
                    }
                }
            }
        });

    [Fact]
    public void ChannelsFirstAndChannelsLastAgreeAfterTransposition() =>
        PropertyRunner.Check(output, "reference-layouts", Generators.Cases(Finite), c =>
        {
            var other = Transpose(c);
            var a = Reference.Train(c);
            var b = Reference.Train(other);
            for (int n = 0; n < c.Shape.N; n++)
            {
                for (int ch = 0; ch < c.Shape.C; ch++)
                {
                    for (int s = 0; s < c.Shape.S; s++)
                    {
                        // The reference sums each channel in logical order in both layouts: bit for bit.
                        if (BitConverter.DoubleToInt64Bits(a.Y[c.Shape.IndexOf(n, ch, s)]) != BitConverter.DoubleToInt64Bits(b.Y[other.Shape.IndexOf(n, ch, s)]))
                            throw new LawViolation($"layouts disagree at (n={n}, c={ch}, s={s})");
                    }
                }
            }
        });

    [Fact]
    public void InferenceIsAnAffineMap() =>
        PropertyRunner.Check(output, "reference-inference-affine", Generators.Cases(Finite), c =>
        {
            double[] x1 = c.X.Select(v => (double)v).ToArray(), x2 = x1.Select((v, i) => v * 0.5 + Math.Sin(i)).ToArray();
            double[] mix = x1.Select((v, i) => (0.3 * v) + (0.7 * x2[i])).ToArray();
            double[] y1 = Reference.Infer(c, x1), y2 = Reference.Infer(c, x2), y = Reference.Infer(c, mix);
            for (int i = 0; i < y.Length; i++)
                Close(y[i], (0.3 * y1[i]) + (0.7 * y2[i]), Tolerance * (1 + Math.Abs(y1[i]) + Math.Abs(y2[i])), $"inference is affine at {i}");
        });

    [Fact]
    public void BackwardGradientsObeyTheirIdentities() =>
        PropertyRunner.Check(output, "reference-backward-identities", Generators.Cases(Finite), BackwardIdentities);

    /// <summary>dy = 0 gives dx = 0; sum dx = 0; sum dx xhat = k1 dgamma eps/(var + eps); dbeta = sum dy; dgamma = sum dy xhat.</summary>
    internal static void BackwardIdentities(PropertyCase c)
    {
        {
            var r = Reference.Train(c);
            double[] dy = c.Dy.Select(v => (double)v).ToArray();
            var g = Reference.Backward(c, r, dy);
            var zero = Reference.Backward(c, r, new double[dy.Length]);
            if (zero.Dx.Any(v => v != 0))
                throw new LawViolation("dy = 0 must give dx = 0 exactly");
            for (int ch = 0; ch < c.Shape.C; ch++)
            {
                double sumDx = 0, sumDxXhat = 0, sumAbs = 0, dbeta = 0, dgamma = 0, dgammaAbs = 0;
                foreach (int i in c.Shape.ChannelOffsets(ch))
                {
                    double xhat = (r.X[i] - r.Mean[ch]) * r.InvStd[ch];
                    sumDx += g.Dx[i];
                    sumDxXhat += g.Dx[i] * xhat;
                    // dx's double rounding is relative to the terms it cancels (dy, mean(dy), xhat dgamma/M),
                    // not to dx itself, which for M = 2 and a small eps is a near-total cancellation.
                    double terms = Math.Abs(r.Gamma(ch) * r.InvStd[ch]) * (Math.Abs(dy[i]) + Math.Abs(g.DBeta[ch] / c.Shape.M) + Math.Abs(xhat * g.DGamma[ch] / c.Shape.M));
                    sumAbs += (Math.Abs(g.Dx[i]) + terms) * (1 + Math.Abs(xhat));
                    dbeta += dy[i];
                    dgamma += dy[i] * xhat;
                    dgammaAbs += Math.Abs(dy[i] * xhat);
                }

                Close(sumDx, 0, Tolerance * sumAbs + 1e-300, $"sum of dx is 0 in channel {ch}");
                // sum dx*xhat = k1 dgamma (1 - sum xhat^2 / M) and sum xhat^2 / M = var/(var + eps): it is
                // k1 dgamma eps/(var + eps), zero only in the limit eps -> 0.
                double expected = r.Gamma(ch) * r.InvStd[ch] * g.DGamma[ch] * c.Options.Epsilon / (r.Variance[ch] + c.Options.Epsilon);
                Close(sumDxXhat, expected, Tolerance * sumAbs + 1e-300, $"sum of dx * xhat is gamma istd dgamma eps/(var + eps) in channel {ch}");
                Close(g.DBeta[ch], dbeta, Tolerance * c.Dy.Sum(Math.Abs), $"dbeta = sum dy in channel {ch}");
                Close(g.DGamma[ch], dgamma, Tolerance * dgammaAbs + 1e-300, $"dgamma = sum dy * xhat in channel {ch}");
            }
        }
    }

    [Fact]
    public void RunningStatisticsFollowEachConventionsFormula() =>
        PropertyRunner.Check(output, "reference-running-statistics", Generators.Cases(Finite), c =>
        {
            if (!c.WithRunningStats)
                return;
            var r = Reference.Train(c, running: true);
            double m = c.Options.Momentum;
            long count = c.Shape.M;
            for (int ch = 0; ch < c.Shape.C; ch++)
            {
                // Written out here from the frameworks' documentation, not from the code under test.
                (double mean, double variance) = c.Options.Convention switch
                {
                    RunningStatsConvention.PyTorch => (((1 - m) * c.RunningMean[ch]) + (m * r.Mean[ch]), ((1 - m) * c.RunningVariance[ch]) + (m * r.Variance[ch] * count / (count - 1))),
                    RunningStatsConvention.Keras or RunningStatsConvention.Onnx => ((m * c.RunningMean[ch]) + ((1 - m) * r.Mean[ch]), (m * c.RunningVariance[ch]) + ((1 - m) * r.Variance[ch])),
                    _ => throw new ArgumentOutOfRangeException(nameof(c), c.Options.Convention, "not a convention"),
                };
                Close(r.RunningMean[ch], mean, 1e-12 * (Math.Abs(mean) + Math.Abs(c.RunningMean[ch]) + Math.Abs(r.Mean[ch])), $"{c.Options.Convention} running mean");
                Close(r.RunningVariance[ch], variance, 1e-12 * (Math.Abs(variance) + c.RunningVariance[ch]), $"{c.Options.Convention} running variance");
            }
        });

    private static PropertyCase Transpose(PropertyCase c)
    {
        var shape = c.Shape.WithLayout(c.Shape.Layout == Layout.ChannelsFirst ? Layout.ChannelsLast : Layout.ChannelsFirst);
        float[] Move(float[] t)
        {
            float[] result = new float[t.Length];
            for (int i = 0; i < t.Length; i++)
            {
                var (n, ch, s) = c.Shape.CoordinatesOf(i);
                result[shape.IndexOf(n, ch, s)] = t[i];
            }

            return result;
        }

        return c with { Shape = shape, X = Move(c.X), Dy = Move(c.Dy) };
    }
}

/// <summary>The reference on a property case, in double.</summary>
internal static class Reference
{
    public sealed record Training(double[] X, double[] Y, double[] Mean, double[] Variance, double[] InvStd, double[] RunningMean, double[] RunningVariance, float[] GammaValues, float[] BetaValues)
    {
        public double Gamma(int c) => GammaValues.Length == 0 ? 1 : GammaValues[c];

        public double Beta(int c) => BetaValues.Length == 0 ? 0 : BetaValues[c];
    }

    public static Training Train(PropertyCase c, double[]? x = null, bool running = false)
    {
        x ??= c.X.Select(v => (double)v).ToArray();
        int channels = c.Shape.C;
        double[] y = new double[x.Length], mean = new double[channels], variance = new double[channels], invStd = new double[channels];
        double[] runMean = c.RunningMean.Select(v => (double)v).ToArray(), runVar = c.RunningVariance.Select(v => (double)v).ToArray();
        ReferenceBatchNorm.ForwardTraining(c.Shape, c.Options, new ForwardTrainingTensors<double>
        {
            X = x,
            Gamma = c.Gamma.Select(v => (double)v).ToArray(),
            Beta = c.Beta.Select(v => (double)v).ToArray(),
            Y = y,
            BatchMean = mean,
            BatchVariance = variance,
            BatchInvStd = invStd,
            RunningMean = running ? runMean : [],
            RunningVariance = running ? runVar : [],
        });
        return new Training(x, y, mean, variance, invStd, runMean, runVar, c.Gamma, c.Beta);
    }

    public static double[] Infer(PropertyCase c, double[] x)
    {
        double[] y = new double[x.Length];
        ReferenceBatchNorm.ForwardInference(c.Shape, c.Options, new ForwardInferenceTensors<double>
        {
            X = x,
            Gamma = c.Gamma.Select(v => (double)v).ToArray(),
            Beta = c.Beta.Select(v => (double)v).ToArray(),
            RunningMean = c.RunningMean.Select(v => (double)v).ToArray(),
            RunningVariance = c.RunningVariance.Select(v => (double)v).ToArray(),
            Y = y,
        });
        return y;
    }

    public static (double[] Dx, double[] DGamma, double[] DBeta) Backward(PropertyCase c, Training r, double[] dy)
    {
        double[] dx = new double[dy.Length], dgamma = new double[c.Shape.C], dbeta = new double[c.Shape.C];
        ReferenceBatchNorm.BackwardTraining(c.Shape, new BackwardTrainingTensors<double>
        {
            X = r.X,
            Dy = dy,
            Gamma = c.Gamma.Select(v => (double)v).ToArray(),
            SavedMean = r.Mean,
            SavedInvStd = r.InvStd,
            Dx = dx,
            DGamma = dgamma,
            DBeta = dbeta,
        });
        return (dx, dgamma, dbeta);
    }
}
