namespace BatchNorm.Tests.Support;

/// <summary>The source tree the tests run from.</summary>
public static class Repository
{
    /// <summary>The folder holding Verification.sln, found by walking up from the test binaries.</summary>
    /// <exception cref="InvalidOperationException">The tests run outside the repository.</exception>
    public static string Root { get; } = Find();

    /// <summary>A path below the repository root.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Verification.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("the tests run outside the repository");
    }
}
