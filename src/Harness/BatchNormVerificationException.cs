namespace BatchNorm.Harness;

/// <summary>A kernel did not pass; the message is the whole report (summary line, then every failing case).</summary>
public sealed class BatchNormVerificationException : Exception
{
    /// <summary>Creates the exception for a report that did not pass.</summary>
    public BatchNormVerificationException(VerificationReport report)
        : base(report?.ToString())
    {
        ArgumentNullException.ThrowIfNull(report);
        Report = report;
    }

    /// <summary>The report that did not pass.</summary>
    public VerificationReport Report { get; }
}
