using BatchNorm.Harness.Kernels;
using Xunit;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// A fact that needs oneDNN (libdnnl.so.2) able to run batch norm on data of <c>precision</c>: skipped with the reason
/// where it cannot (the install command where it is missing; for bf16 on a CPU without AVX-512, that oneDNN has no
/// implementation there). CI installs oneDNN.
/// </summary>
public sealed class RequiresOneDnnFactAttribute : FactAttribute
{
    public RequiresOneDnnFactAttribute(DataPrecision precision = DataPrecision.Float32)
    {
        string name = KernelCatalog.OneDnnNameOf(precision);
        if (KernelCatalog.Unavailable.FirstOrDefault(k => k.Name == name) is { Reason: { } reason })
            Skip = $"needs {name}: {reason}";
    }
}
