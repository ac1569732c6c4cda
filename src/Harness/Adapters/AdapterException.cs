namespace BatchNorm.Harness.Adapters;

/// <summary>
/// An adapter process that cannot be used: it did not start, exited, went silent past its timeout, or broke the
/// protocol. Not a finding about the kernel: the run stops and the CLI exits 2 with this message, which names the
/// adapter's command and what it did (its last lines on standard error where it wrote any).
/// </summary>
internal sealed class AdapterException(string message) : IOException(message);
