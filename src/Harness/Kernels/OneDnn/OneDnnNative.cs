using System.Runtime.InteropServices;

namespace BatchNorm.Harness.Kernels.OneDnn;

/// <summary>
/// The part of oneDNN 2.6's C API (Debian <c>libdnnl-dev</c>, <c>libdnnl.so.2</c>) that batch
/// normalization needs. Constants are from <c>oneapi/dnnl/dnnl_types.h</c> of that version; the
/// descriptor structs are opaque here and get buffers larger than their C size (696 and 3496 bytes).
/// </summary>
internal static unsafe partial class OneDnnNative
{
    public const string Library = "libdnnl.so.2";

    /// <summary>What to run where libdnnl is missing.</summary>
    public const string Install = "apt-get update && apt-get install -y libdnnl-dev";

    public const int Success = 0;

    /// <summary>dnnl_unimplemented: no implementation of the primitive for these descriptors on this CPU.</summary>
    public const int Unimplemented = 3;
    public const int CpuEngine = 1;
    public const uint InOrderStream = 0x1;
    public const int Float16 = 1;
    public const int BFloat16 = 2;
    public const int Float32 = 3;
    public const int TagA = 2;
    public const int TagNchw = 5;
    public const int TagNhwc = 20;
    public const int PropForwardTraining = 64;
    public const int PropForwardInference = 96;
    public const int PropBackward = 128;
    public const uint UseGlobalStats = 0x1;
    public const uint UseScale = 0x8;
    public const uint UseShift = 0x10;
    public const uint FuseNormRelu = 0x4;
    public const int QueryWorkspaceMd = 135;
    public const int ArgWorkspace = 64;
    public const int ArgSrc = 1;
    public const int ArgDst = 17;
    public const int ArgMean = 49;
    public const int ArgVariance = 50;
    public const int ArgScale = 51;
    public const int ArgShift = 52;
    public const int ArgDiffSrc = 129;
    public const int ArgDiffDst = 145;
    public const int ArgDiffScale = 255;
    public const int ArgDiffShift = 256;

    /// <summary>Bytes reserved for a dnnl_memory_desc_t (696 in 2.6) or an op descriptor (3496).</summary>
    public const int DescriptorBytes = 4096;

    [StructLayout(LayoutKind.Sequential)]
    public struct ExecArg
    {
        public int Arg;
        public nint Memory;
    }

    /// <summary>True when libdnnl.so.2 loads in this process.</summary>
    public static bool Available { get; } = NativeLibrary.TryLoad(Library, out _);

    [LibraryImport(Library)]
    public static partial int dnnl_engine_create(out nint engine, int kind, nuint index);

    [LibraryImport(Library)]
    public static partial int dnnl_stream_create(out nint stream, nint engine, uint flags);

    [LibraryImport(Library)]
    public static partial int dnnl_memory_desc_init_by_tag(byte* memoryDesc, int ndims, long* dims, int dataType, int tag);

    [LibraryImport(Library)]
    public static partial int dnnl_batch_normalization_forward_desc_init(byte* desc, int propKind, byte* dataDesc, float epsilon, uint flags);

    [LibraryImport(Library)]
    public static partial int dnnl_batch_normalization_backward_desc_init(byte* desc, int propKind, byte* diffDataDesc, byte* dataDesc, float epsilon, uint flags);

    [LibraryImport(Library)]
    public static partial int dnnl_primitive_desc_create(out nint primitiveDesc, byte* opDesc, nint attr, nint engine, nint hintForward);

    [LibraryImport(Library)]
    public static partial int dnnl_primitive_desc_destroy(nint primitiveDesc);

    [LibraryImport(Library)]
    public static partial int dnnl_primitive_create(out nint primitive, nint primitiveDesc);

    [LibraryImport(Library)]
    public static partial int dnnl_primitive_destroy(nint primitive);

    [LibraryImport(Library)]
    public static partial int dnnl_memory_create(out nint memory, byte* memoryDesc, nint engine, void* handle);

    [LibraryImport(Library)]
    public static partial int dnnl_memory_destroy(nint memory);

    [LibraryImport(Library)]
    public static partial int dnnl_primitive_execute(nint primitive, nint stream, int nargs, ExecArg* args);

    [LibraryImport(Library)]
    public static partial int dnnl_stream_wait(nint stream);

    /// <summary>A descriptor the primitive descriptor owns (null when it has none of that kind).</summary>
    [LibraryImport(Library)]
    public static partial byte* dnnl_primitive_desc_query_md(nint primitiveDesc, int what, int index);

    [LibraryImport(Library)]
    public static partial nuint dnnl_memory_desc_get_size(byte* memoryDesc);

    /// <summary>Throws when a call did not return dnnl_success.</summary>
    public static void Check(int status, string function)
    {
        if (status != Success)
            throw new OneDnnException(function, status);
    }
}

/// <summary>A oneDNN call that returned a status other than success, with the function and the status.</summary>
internal sealed class OneDnnException(string function, int status) : InvalidOperationException($"oneDNN {function} returned status {status}")
{
    public int Status { get; } = status;
}
