using Xunit;

namespace BatchNorm.Tests.Unit.Contracts;

/// <summary>A contract is written SUMS/STATISTICS/APPLY and read back the same; anything else is refused naming the part.</summary>
public class ContractSyntaxTests
{
    [Theory]
    [InlineData("double/two-pass/centred")]
    [InlineData("float-pairwise/rounded-centre/folded")]
    [InlineData("float-blocked:64/welford/folded-fma")]
    [InlineData("float-lanes:16/two-pass/folded")]
    [InlineData("float-sequential/welford/centred")]
    public void AContractRoundTripsThroughItsText(string text)
    {
        var contract = NumericalContract.Parse(text);
        Assert.Equal(text, contract.ToString());
        Assert.Null(contract.Inconsistency);
    }

    [Theory]
    [InlineData("double/two-pass", "expected SUMS/STATISTICS/APPLY")]
    [InlineData("float/two-pass/centred", "'float' is not a way of summing")]
    [InlineData("float-blocked:0/two-pass/centred", "'0' is not a block or lane count")]
    [InlineData("float-lanes:1,5/two-pass/centred", "'1,5' is not a block or lane count")]
    [InlineData("double/one-pass/centred", "'one-pass' is not a form of the statistics")]
    [InlineData("double/two-pass/fused", "'fused' is not a form of the apply step")]
    public void AMalformedContractIsRefusedNamingThePart(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => NumericalContract.Parse(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void ASizeGoesWithBlockedAndLaneSumsOnly()
    {
        Assert.NotNull(new NumericalContract(Accumulation.FloatBlocked, StatisticsForm.TwoPass, ApplyForm.Centred).Inconsistency);
        Assert.NotNull(new NumericalContract(Accumulation.Double, StatisticsForm.TwoPass, ApplyForm.Centred, 8).Inconsistency);
        Assert.Null(new NumericalContract(Accumulation.FloatLanes, StatisticsForm.TwoPass, ApplyForm.Centred, 8).Inconsistency);
    }

    [Theory]
    [InlineData("float-pairwise/two-pass/centred", 1024, 10)]
    [InlineData("float-pairwise/two-pass/centred", 1025, 11)]
    [InlineData("float-blocked:64/two-pass/centred", 1024, 63 + 4)]
    [InlineData("float-lanes:16/two-pass/centred", 1024, 63 + 4)]
    [InlineData("float-lanes:16/two-pass/centred", 5, 0 + 3)]
    [InlineData("float-sequential/two-pass/centred", 1024, 1023)]
    [InlineData("double/two-pass/centred", 1024, 0)]
    public void TheSumDepthIsTheLongestChainOfFloatAdditions(string contract, long m, long depth) =>
        Assert.Equal(depth, NumericalContract.Parse(contract).SumDepth(m));
}
