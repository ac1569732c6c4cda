using System.Reflection;
using System.Text;
using BatchNorm.Harness;
using Xunit;

namespace BatchNorm.Tests.Snapshots;

/// <summary>
/// The BnVerify package's public API is deliberately small: the kernel contract (Core and
/// IBatchNormKernel) and the BatchNormVerifier entry point. Any change to it is a decision, approved here.
/// </summary>
public class PublicApiTests
{
    private static readonly string[] PackagedAssemblies = ["BatchNorm.Core", "BatchNorm.Harness", "BatchNorm.Reference", "BatchNorm.Optimized"];

    [Fact]
    public void ThePublicApiIsTheApprovedOne()
    {
        _ = typeof(BatchNormVerifier);   // loads the harness (and with it the bundled assemblies)
        string fresh = Render(PackagedAssemblies.Select(Assembly.Load));
        string approved = Support.Repository.PathOf("tests", "Snapshots", "Approved", "PublicApi.approved.txt");
        if (!File.Exists(approved) || File.ReadAllText(approved) != fresh)
        {
            string received = approved.Replace(".approved.", ".received.", StringComparison.Ordinal);
            File.WriteAllText(received, fresh);
            Assert.Fail($"The public API changed. Review: diff {approved} {received}; approve: mv {received} {approved}.");
        }
    }

    [Fact]
    public void ReferenceAndOptimizedExposeNothing()
    {
        Assert.Empty(Assembly.Load("BatchNorm.Reference").GetExportedTypes());
        Assert.Empty(Assembly.Load("BatchNorm.Optimized").GetExportedTypes());
    }

    /// <summary>One line per public type (kind, name, bases) and one per public or protected member it declares, ordinally sorted.</summary>
    private static string Render(IEnumerable<Assembly> assemblies)
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var text = new StringBuilder();
        foreach (var type in assemblies.SelectMany(a => a.GetExportedTypes()).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            string kind = type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct" : "class";
            var bases = new[] { type.BaseType }.Where(b => b is not null && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum))
                .Concat(type.GetInterfaces()).Select(b => b!.ToString()).Order(StringComparer.Ordinal);
            text.AppendLine($"{kind} {type} : {string.Join(", ", bases)}");
            var members = type.GetMembers(declared)
                .Where(m => m switch
                {
                    MethodBase method => (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly) && (method is ConstructorInfo || !method.IsSpecialName),
                    FieldInfo field => field.IsPublic || field.IsFamily,
                    PropertyInfo property => property.GetMethod is { } get && (get.IsPublic || get.IsFamily),
                    EventInfo => true,
                    Type nested => nested.IsNestedPublic,
                    _ => false,
                })
                .Select(m => $"  {m.MemberType} {m}")
                .Where(line => !line.Contains("<Clone>$", StringComparison.Ordinal));
            foreach (string member in members.Order(StringComparer.Ordinal))
                text.AppendLine(member);
        }

        return text.ToString();
    }
}
