using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Hunt;
using FsCheck;
using FsCheck.Fluent;

namespace BatchNorm.Tests.Property.Infrastructure;

/// <summary>
/// A case drawn by hunt's generators (<see cref="CaseGenerators"/>), the same ones <c>bnverify hunt</c> searches with, so
/// the property tests and the product share one set of generators and shrinkers. Public for FsCheck.Xunit's
/// <c>[Property]</c> parameters; the case itself stays internal. Prints as the case's one-line description and its
/// case file, so a shrunk counterexample saved to a file replays with <c>bnverify verify --case-file</c>.
/// </summary>
public sealed class HuntedCase
{
    internal HuntedCase(VerificationCase @case) => Case = @case;

    internal VerificationCase Case { get; }

    /// <summary>The case with its inputs drawn (every pass's: x, gamma, beta, dy, running statistics) and ReLU fused where it was drawn with one.</summary>
    internal PropertyCase Materialize()
    {
        var inputs = CaseInputs.Draw(Case, Battery.DefaultSeed);
        var plain = new PropertyCase(Case.Shape, Case.Options with { Activation = Activation.None }, inputs.X, inputs.Gamma, inputs.Beta, inputs.Dy, inputs.RunningMean,
            inputs.RunningVariance);
        return Case.Options.Activation == Activation.Relu ? plain.WithRelu() : plain;
    }

    public override string ToString() => $"{Case.Describe()}\ncase file (save it and run bnverify verify --case-file FILE):\n{CaseFile.Render(Case, "optimized", "property")}";
}

/// <summary>FsCheck.Xunit arbitraries of <see cref="HuntedCase"/>: float32 data, plain and fused ReLU, shrunk by hunt's shrinker.</summary>
public static class HuntedCases
{
    public static Arbitrary<HuntedCase> Float32() =>
        Arb.From(CaseGenerators.Cases([Activation.None, Activation.Relu], DataPrecision.Float32).Select(c => new HuntedCase(c)),
            h => CaseGenerators.Shrink(h.Case).Select(c => new HuntedCase(c)));
}

/// <summary>
/// FsCheck.Xunit arbitraries of <see cref="HuntedCase"/> with a ReLU fused in every one, so the case a failure prints says
/// so and replays as it ran (a plain case with the ReLU added after drawing has beta not made non-negative, data no case
/// file draws). Shrinking keeps the ReLU.
/// </summary>
public static class HuntedReluCases
{
    public static Arbitrary<HuntedCase> Float32Relu() =>
        Arb.From(CaseGenerators.Cases([Activation.Relu], DataPrecision.Float32).Select(c => new HuntedCase(c)),
            h => CaseGenerators.Shrink(h.Case).Where(c => c.Options.Activation == Activation.Relu).Select(c => new HuntedCase(c)));
}
