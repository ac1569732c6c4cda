using System.Diagnostics;
using System.Text.Json.Nodes;

namespace BatchNorm.Harness.Adapters;

/// <summary>
/// A kernel in another language behind the adapter protocol: one long-lived process, started once with
/// <c>/bin/sh -c COMMAND</c>, that greets with a hello message and then answers one request after another on its
/// standard input and output. Every read waits at most <see cref="Timeout"/>; a process that exits, goes silent or
/// breaks the protocol is killed and reported as an <see cref="AdapterException"/> naming the command, never a hang.
/// </summary>
internal sealed class AdapterProcess : IDisposable
{
    /// <summary>The protocol's name and version; the hello must carry exactly this.</summary>
    public const string Protocol = "bnverify-adapter/1";

    private readonly Process process;
    private readonly string command;
    private readonly Queue<string> errorTail = new();
    private readonly Lock gate = new();

    private AdapterProcess(Process process, string command, TimeSpan timeout)
    {
        this.process = process;
        this.command = command;
        Timeout = timeout;
    }

    /// <summary>How long one answer (the hello, or a case's outputs) may take.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The hello's fields: name, contract, activations, precision (docs/adapter-protocol.md).</summary>
    public JsonObject Hello { get; private set; } = [];

    /// <summary>Starts the command and reads its hello.</summary>
    /// <exception cref="AdapterException">It cannot be started, or its hello is missing or not this protocol's.</exception>
    public static AdapterProcess Start(string command, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new AdapterException($"--adapter \"{command}\": /bin/sh did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new AdapterException($"--adapter \"{command}\": cannot start /bin/sh: {e.Message}");
        }

        var adapter = new AdapterProcess(process, command, timeout);
        process.ErrorDataReceived += (_, e) => adapter.KeepErrorLine(e.Data);
        process.BeginErrorReadLine();
        var hello = adapter.Receive("its hello");
        if (hello.Header["protocol"]?.ToString() != Protocol)
            throw adapter.Fail($"its hello is not {Protocol}: {AdapterMessage.Excerpt(hello.Header.ToJsonString())}");
        adapter.Hello = hello.Header;
        return adapter;
    }

    /// <summary>Sends one request and returns the answer, both within <see cref="Timeout"/> (an adapter that stops reading blocks the write).</summary>
    /// <exception cref="AdapterException">The process exited, timed out or answered outside the protocol.</exception>
    public AdapterMessage Call(AdapterMessage request, string what)
    {
        lock (gate)
        {
            return Exchange(() =>
            {
                try
                {
                    request.WriteTo(process.StandardInput.BaseStream);
                }
                catch (IOException)
                {
                    return null; // it stopped reading: reported as closed below, with its exit code
                }

                return AdapterMessage.ReadFrom(process.StandardOutput.BaseStream);
            }, what);
        }
    }

    private AdapterMessage Receive(string what) => Exchange(() => AdapterMessage.ReadFrom(process.StandardOutput.BaseStream), what);

    private AdapterMessage Exchange(Func<AdapterMessage?> exchange, string what)
    {
        var read = Task.Run(exchange);
        try
        {
            if (!read.Wait(Timeout))
                throw Fail($"no answer for {what} within {Timeout.TotalSeconds:0.#} s");
            return read.Result ?? throw Fail($"it closed its output before {what}");
        }
        catch (AggregateException e) when (e.InnerException is InvalidDataException or EndOfStreamException or IOException)
        {
            throw Fail($"{what} breaks the protocol: {e.InnerException!.Message}");
        }
    }

    /// <summary>Kills the process and describes why: the command, what went wrong, its exit code and its last error lines.</summary>
    private AdapterException Fail(string what)
    {
        string exit = "";
        try
        {
            if (!process.WaitForExit(200))
                process.Kill(entireProcessTree: true);
            else
                exit = $" (exit code {process.ExitCode})";
            // The parameterless wait also drains standard error, so its last lines are in the tail; bounded, in case
            // a child the adapter left behind holds the pipe open.
            Task.Run(() => process.WaitForExit()).Wait(TimeSpan.FromSeconds(2));
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing to kill.
        }

        string[] tail;
        lock (errorTail)
            tail = [.. errorTail];
        string stderr = tail.Length == 0 ? "" : $"; its last words on standard error: {string.Join(" | ", tail)}";
        return new AdapterException($"--adapter \"{command}\": {what}{exit}{stderr}");
    }

    private void KeepErrorLine(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
            return;
        lock (errorTail)
        {
            errorTail.Enqueue(AdapterMessage.Excerpt(line.Trim()));
            if (errorTail.Count > 3)
                errorTail.Dequeue();
        }
    }

    public void Dispose()
    {
        try
        {
            process.StandardInput.Close(); // the adapter's cue to exit
            if (!process.WaitForExit(2000))
                process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // It is gone already.
        }

        process.Dispose();
    }
}
