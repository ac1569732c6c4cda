using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>bnverify's exit codes and reports, run as CI runs it.</summary>
public class CliTests
{
    [Fact]
    public void VerifyExitsZeroWhenThePassesAllPassAndWritesItsReports()
    {
        string folder = Directory.CreateTempSubdirectory("bnverify-cli-").FullName;
        var run = Bnverify.Run("verify", "--case", "normal", "--json", Path.Combine(folder, "r.json"), "--junit", Path.Combine(folder, "r.xml"));
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("8 passed, 0 failed, 0 mistrusted", run.Output);
        Assert.Contains("\"verdict\": \"passed\"", File.ReadAllText(Path.Combine(folder, "r.json")));
        Assert.Contains("<testcase classname=\"bnverify.optimized\" name=\"normal/nchw/train\"", File.ReadAllText(Path.Combine(folder, "r.xml")));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void VerifyExitsOneOnAFailingKernelAndPrintsTheWorstElementsAndAReproducer()
    {
        var run = Bnverify.Run("verify", "--kernel", "faulty:one-element-64-ulp", "--case", "normal/nhwc/train");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("y: 1 of 6272 elements over their bound", run.Output);
        Assert.Contains("reproduce: dotnet run --project src/Cli -c Release -- verify --kernel faulty:one-element-64-ulp --case normal/nhwc/train --seed 20261121", run.Output);
    }

    [Theory]
    [InlineData("verify", "--kernel", "no-such-kernel")]
    [InlineData("verify", "--suite", "medium")]
    [InlineData("verify", "--case", "no-such-case")]
    [InlineData("bench", "--runs", "3")]
    [InlineData("frobnicate")]
    public void BadUsageExitsTwo(params string[] args)
    {
        var run = Bnverify.Run(args);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Output}{run.Error}");
        Assert.NotEmpty(run.Error);
    }

    [Fact]
    public void KernelsListsEveryName()
    {
        var run = Bnverify.Run("kernels");
        Assert.Equal(0, run.ExitCode);
        string[] names = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("optimized", names);
        Assert.Contains("optimized-scalar", names);
        Assert.Contains("scalar-float", names);
        Assert.Contains("faulty:one-pass-variance", names);
    }
}
