using System.Reflection;
using System.Runtime.Loader;

namespace BatchNorm.Harness.Kernels;

/// <summary>
/// The <see cref="IBatchNormKernel"/> implementations of a user's assembly (<c>--kernel-assembly</c>):
/// every public, non-abstract class that implements it, created with its public parameterless
/// constructor. The assembly and its own dependencies load in a context of their own; bnverify's
/// assemblies (the kernel contract) are shared with it, so its kernels implement this very interface.
/// </summary>
internal sealed class UserKernelAssembly
{
    /// <summary>One kernel type of the assembly: its kernel when it could be created, otherwise why not.</summary>
    public sealed record Entry(string TypeName, IBatchNormKernel? Kernel, string? Problem)
    {
        /// <summary>The name <c>--kernel</c> selects it by: the kernel's <see cref="IBatchNormKernel.Name"/>, or its type's full name.</summary>
        public string Name => Kernel?.Name ?? TypeName;
    }

    private UserKernelAssembly(string path, IReadOnlyList<Entry> entries) => (Path, Entries) = (path, entries);

    public string Path { get; }

    /// <summary>Every kernel type, in the assembly's order.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>Loads the assembly at <paramref name="path"/> and creates each of its kernels.</summary>
    /// <exception cref="ArgumentException">No such file, not a .NET assembly, it does not load, or it has no kernel type; the message says which.</exception>
    public static UserKernelAssembly Load(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ArgumentException($"--kernel-assembly {path}: no such file.");
        if (!AtomicFile.IsRegularFile(full))
            throw new ArgumentException($"--kernel-assembly {path}: is not a regular file (a device, FIFO or socket).");
        Assembly assembly;
        try
        {
            assembly = new KernelLoadContext(full).LoadFromAssemblyPath(full);
        }
        catch (BadImageFormatException)
        {
            throw new ArgumentException($"--kernel-assembly {path}: not a .NET assembly.");
        }
        catch (FileLoadException e)
        {
            throw new ArgumentException($"--kernel-assembly {path}: does not load ({e.Message}).");
        }

        var entries = KernelTypes(assembly, path).Select(Create).ToArray();
        if (entries.Length == 0)
            throw new ArgumentException($"--kernel-assembly {path}: has no public, non-abstract class implementing {nameof(IBatchNormKernel)}.");
        return new UserKernelAssembly(path, entries);
    }

    /// <summary>The kernel <c>--kernel</c> names, or the assembly's only kernel when <paramref name="name"/> is null.</summary>
    /// <exception cref="ArgumentException">No kernel has that name, it cannot be created, or the choice is ambiguous; the message lists the kernels.</exception>
    public IBatchNormKernel Create(string? name)
    {
        var matches = name is null ? Entries : Entries.Where(e => e.Name == name || e.TypeName == name || e.TypeName.EndsWith("." + name, StringComparison.Ordinal)).ToArray();
        if (matches.Count == 1 && matches[0].Kernel is { } kernel)
            return kernel;
        if (matches.Count == 1)
            throw new ArgumentException($"--kernel {name ?? matches[0].Name}: {matches[0].TypeName} in {Path} {matches[0].Problem}.");
        string listing = string.Join("; ", Entries.Select(e => e.Kernel is null ? $"{e.TypeName} ({e.Problem})" : e.Name));
        throw new ArgumentException(name is null
            ? $"--kernel-assembly {Path}: has {Entries.Count} kernels, name one with --kernel: {listing}."
            : $"--kernel {name}: {(matches.Count == 0 ? "no kernel of that name" : "more than one kernel of that name")} in {Path}; it has: {listing}.");
    }

    private static IEnumerable<Type> KernelTypes(Assembly assembly, string path)
    {
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            // Usually a dependency that is missing or of another version than the one bnverify ships.
            string first = e.LoaderExceptions.FirstOrDefault(x => x is not null)?.Message ?? "unknown reason";
            throw new ArgumentException($"--kernel-assembly {path}: some of its types do not load ({first}).");
        }

        return types.OfType<Type>().Where(t => t.IsClass && t.IsPublic && !t.IsAbstract && typeof(IBatchNormKernel).IsAssignableFrom(t));
    }

    private static Entry Create(Type type)
    {
        string typeName = type.FullName ?? type.Name;
        if (type.GetConstructor(Type.EmptyTypes) is null)
            return new Entry(typeName, null, "has no public parameterless constructor");
        try
        {
            var kernel = (IBatchNormKernel)Activator.CreateInstance(type)!;
            return string.IsNullOrWhiteSpace(kernel.Name) ? new Entry(typeName, null, "has an empty Name") : new Entry(typeName, kernel, null);
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            return new Entry(typeName, null, $"cannot be constructed: its constructor threw {inner.GetType().Name}: {inner.Message}");
        }
    }

    /// <summary>The user's assembly and its dependencies, resolved from its .deps.json; bnverify's own assemblies come from bnverify.</summary>
    private sealed class KernelLoadContext(string path) : AssemblyLoadContext($"kernels: {System.IO.Path.GetFileName(path)}")
    {
        private static readonly HashSet<string> Shared = ["BatchNorm.Core", "BatchNorm.Harness", "BatchNorm.Reference", "BatchNorm.Optimized"];

        private readonly AssemblyDependencyResolver resolver = new(path);

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name is { } simple && Shared.Contains(simple))
                return null;
            return resolver.ResolveAssemblyToPath(name) is { } file ? LoadFromAssemblyPath(file) : null;
        }

        protected override nint LoadUnmanagedDll(string unmanagedDllName) =>
            resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } file ? LoadUnmanagedDllFromPath(file) : 0;
    }
}
