using BatchNorm.Harness.Kernels;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>A fact that needs oneDNN (libdnnl.so.2): skipped with the install command where it is missing. CI installs it.</summary>
public sealed class RequiresOneDnnFactAttribute : FactAttribute
{
    public RequiresOneDnnFactAttribute()
    {
        if (KernelCatalog.Unavailable.FirstOrDefault(k => k.Name == KernelCatalog.OneDnnName) is { Reason: { } reason })
            Skip = $"needs oneDNN: {reason}";
    }
}
