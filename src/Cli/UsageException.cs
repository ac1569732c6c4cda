namespace BatchNorm.Cli;

/// <summary>
/// Bad usage or unusable input (an option's value, a path the user gave): the message names the
/// argument, the value and the rule, in one line. The CLI exits 2 with it, before any work.
/// </summary>
internal sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);
