using System.Diagnostics;
using Xunit;

namespace BatchNorm.Tests.Unit.Hunt;

/// <summary>
/// The adapter protocol (docs/adapter-protocol.md): an adapter that cannot be used (gone before its hello, a hello
/// that is not the protocol's, silent past its timeout, an answer that breaks the framing or holds no float32) stops
/// the run with exit 2 and one line naming the adapter and what it did, never a hang; PyTorch's adapter passes the
/// quick suite as its export round trip does, and hunt through it finds and shrinks.
/// </summary>
public class AdapterTests
{
    private const string Hello = """{"protocol":"bnverify-adapter/1","name":"toy","activations":["none"],"precision":"fp32"}""";

    private static (int ExitCode, string Output, string Error, TimeSpan Took) Verify(string adapter, params string[] more)
    {
        var clock = Stopwatch.StartNew();
        var run = Bnverify.RunIn(Bnverify.RepositoryRoot(), new Dictionary<string, string>(), TimeSpan.FromSeconds(60),
            ["verify", "--adapter", adapter, "--case", "normal/nchw/train", .. more]);
        return (run.ExitCode, run.Output, run.Error, clock.Elapsed);
    }

    [Theory]
    [InlineData("echo 'torch missing' >&2; exit 3", "it closed its output before its hello (exit code 3); its last words on standard error: torch missing")]
    [InlineData("echo hello", "its hello breaks the protocol: the header is not a JSON object: hello (exit code 0)")]
    [InlineData("""echo '{"protocol":"bnverify-adapter/0"}'""", """its hello is not bnverify-adapter/1: {"protocol":"bnverify-adapter/0"} (exit code 0)""")]
    [InlineData("/no/such/adapter", "it closed its output before its hello (exit code 127); its last words on standard error: /bin/sh: 1: /no/such/adapter: not found")]
    public void AnAdapterWithoutAUsableHelloIsExitTwoNamingIt(string adapter, string expected)
    {
        var run = Verify(adapter);
        Assert.True(run.ExitCode == 2, run.Output + run.Error);
        Assert.Equal($"--adapter \"{adapter}\": {expected}", run.Error.TrimEnd('\n'));
        Assert.Empty(run.Output);
    }

    [Fact]
    public void ASilentAdapterIsKilledAtItsTimeout()
    {
        var run = Verify($"echo '{Hello}'; sleep 600", "--adapter-timeout", "2");
        Assert.True(run.ExitCode == 2, run.Output + run.Error);
        Assert.Contains("no answer for forward_training of 8x16x49 channels-first within 2 s", run.Error);
        Assert.True(run.Took < TimeSpan.FromSeconds(30), $"took {run.Took}");
    }

    [Theory]
    [InlineData("""{"tensors":[{"name":"y","bytes":100}]}""", "breaks the protocol")]        // promises 100 bytes, sends none
    [InlineData("""{"tensors":{"y":3}}""", "\"tensors\" is not an array")]
    [InlineData("""{"tensors":[{"name":"y","bytes":3}]}abc""", "breaks the protocol")]         // the payload is not on the next line's bytes
    public void AnAnswerOutsideTheFramingIsExitTwo(string answer, string expected)
    {
        var run = Verify($"echo '{Hello}'; read line; echo '{answer}'; sleep 5");
        Assert.True(run.ExitCode == 2, run.Output + run.Error);
        Assert.Contains($"--adapter \"echo '{Hello}'", run.Error);
        Assert.Contains(expected, run.Error);
    }

    [Fact]
    public void ATensorThatIsNotAFloat32NpyIsExitTwo()
    {
        var run = Verify($$"""echo '{{Hello}}'; read line; printf '{"tensors":[{"name":"y","bytes":3}]}\nabc'; sleep 5""");
        Assert.True(run.ExitCode == 2, run.Output + run.Error);
        Assert.Contains("has a tensor y that is not a float32 .npy", run.Error);
    }

    /// <summary>An adapter may refuse a case: that is the kernel's failure on it, named, and the run goes on.</summary>
    [Fact]
    public void ARefusalFailsTheCaseWithTheAdaptersWords()
    {
        var run = Verify($$"""echo '{{Hello}}'; while read line; do echo '{"error":"no channels-first here"}'; done""");
        Assert.True(run.ExitCode == 1, run.Output + run.Error);
        Assert.Contains("the kernel threw ArgumentException: the adapter refused forward_training of 8x16x49 channels-first: no channels-first here", run.Output);
    }

    [RequiresTorchFact]
    public void PyTorchThroughItsAdapterPassesTheQuickSuiteUnderItsContract()
    {
        var run = Bnverify.Run("verify", "--adapter", "/usr/bin/python3 examples/pytorch/adapter.py");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("pytorch, suite quick, seed 20261121: 89 passed, 0 failed, 0 mistrusted;", run.Output);
        Assert.Contains("contract float-sequential/two-pass/folded-fma", run.Output);
    }

    /// <summary>Hunt through the adapter finds what a float sum of squares does with values near 1e18 and shrinks it to one channel.</summary>
    [RequiresTorchFact]
    public void HuntThroughThePyTorchAdapterFindsAndShrinks()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("bnverify-adapter-").FullName, "found.json");
        var run = Bnverify.Run("hunt", "--adapter", "/usr/bin/python3 examples/pytorch/adapter.py", "--seed", "1", "--budget", "60s", "--out", file);
        Assert.True(run.ExitCode == 1, run.Output + run.Error);
        Assert.Contains("hunt pytorch: case ", run.Output);
        Assert.Matches(@"1x1x\d+ channels-first ForwardTraining", run.Output);
        Assert.Contains($"verify --adapter '/usr/bin/python3 examples/pytorch/adapter.py' --case-file {file}", run.Output);
        // The case file replays the finding through the adapter.
        var replay = Bnverify.Run("verify", "--adapter", "/usr/bin/python3 examples/pytorch/adapter.py", "--case-file", file);
        Assert.True(replay.ExitCode == 1, replay.Output + replay.Error);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }
}
