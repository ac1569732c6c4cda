using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Detectors;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Hunt;

/// <summary>
/// What a failing case found, as far as shrinking must keep it: the output that failed (the diagnosed one, else the
/// first failing), the kind of bug the diagnosis names (null: none named), and whether the kernel broke a rule of the
/// run (a write outside its buffers, a nondeterministic result). A shrink that fails for another reason (y instead of
/// dx, a stride instead of a tail) is another bug, and is not taken.
/// </summary>
internal readonly record struct Finding(BatchNormOutput? Output, BugKind? Kind, bool Violation)
{
    public static Finding Of(CaseResult result)
    {
        var diagnosis = result.Diagnosis;
        var output = diagnosis?.Output ?? result.Outputs.FirstOrDefault(o => !o.Passed)?.Output;
        return new Finding(output, diagnosis?.Finding.Kind, result.Violations.Count > 0);
    }

    /// <summary>
    /// Whether <paramref name="shrunk"/> is the same finding: the same output and violation, and the same bug kind, or
    /// any kind where this one has none (a smaller case often lets the diagnosis name what a larger one hid, as a NaN
    /// channel hides a tail).
    /// </summary>
    public bool KeptBy(Finding shrunk) => Output == shrunk.Output && Violation == shrunk.Violation && (Kind is null || Kind == shrunk.Kind);

    public override string ToString() =>
        string.Join(", ", new[] { Output is { } o ? $"output {o.Name()}" : null, Kind is { } k ? $"bug kind {k}" : null, Violation ? "a violation of the run's rules" : null }
            .Where(part => part is not null)) is { Length: > 0 } text ? text : "a failure";
}
