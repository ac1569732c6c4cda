using System.Runtime.InteropServices;
using static BatchNorm.Harness.Kernels.OneDnn.OneDnnNative;

namespace BatchNorm.Harness.Kernels.OneDnn;

/// <summary>
/// One oneDNN batch normalization primitive for a shape, with its memory descriptors: the data as
/// a 4-D (N, C, S, 1) f32 tensor tagged nchw or nhwc (the same memory as a <see cref="TensorShape"/>
/// of that layout), and the per-channel tensors as 1-D (C). Created per call; disposing frees it.
/// </summary>
internal sealed unsafe class OneDnnPrimitive : IDisposable
{
    private readonly nint engine, stream;
    private readonly byte* data, channel, op;
    private readonly DataPrecision precision;
    private readonly int elements;
    private nint forwardHint, primitiveDesc, primitive;

    /// <summary>
    /// A forward primitive (training or inference), or with <paramref name="backward"/> a backward one
    /// (it needs the forward's descriptor as a hint), with its data tensors in <paramref name="precision"/>
    /// (the per-channel ones are float32).
    /// </summary>
    public OneDnnPrimitive(nint engine, nint stream, in TensorShape shape, double epsilon, int forwardKind, uint flags, bool backward, DataPrecision precision)
    {
        (this.engine, this.stream, this.precision, elements) = (engine, stream, precision, shape.ElementCount);
        data = (byte*)NativeMemory.AllocZeroed(DescriptorBytes);
        channel = (byte*)NativeMemory.AllocZeroed(DescriptorBytes);
        op = (byte*)NativeMemory.AllocZeroed(DescriptorBytes);
        try
        {
            long* dims = stackalloc long[] { shape.N, shape.C, shape.S, 1 };
            Check(dnnl_memory_desc_init_by_tag(data, 4, dims, DataType(precision), shape.Layout == Layout.ChannelsLast ? TagNhwc : TagNchw), "dnnl_memory_desc_init_by_tag");
            long c = shape.C;
            Check(dnnl_memory_desc_init_by_tag(channel, 1, &c, Float32, TagA), "dnnl_memory_desc_init_by_tag");
            Check(dnnl_batch_normalization_forward_desc_init(op, forwardKind, data, (float)epsilon, flags), "dnnl_batch_normalization_forward_desc_init");
            Check(dnnl_primitive_desc_create(out primitiveDesc, op, 0, engine, 0), "dnnl_primitive_desc_create");
            if (backward)
            {
                forwardHint = primitiveDesc;
                primitiveDesc = 0;
                new Span<byte>(op, DescriptorBytes).Clear();
                Check(dnnl_batch_normalization_backward_desc_init(op, PropBackward, data, data, (float)epsilon, flags), "dnnl_batch_normalization_backward_desc_init");
                Check(dnnl_primitive_desc_create(out primitiveDesc, op, 0, engine, forwardHint), "dnnl_primitive_desc_create (backward)");
            }

            Check(dnnl_primitive_create(out primitive, primitiveDesc), "dnnl_primitive_create");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>What an argument's buffer holds, so it gets the descriptor of its kind.</summary>
    public enum Holds
    {
        /// <summary>Shaped as the data (src, dst and their gradients).</summary>
        Data,

        /// <summary>One value per channel (mean, variance, scale, shift and their gradients).</summary>
        Channel,

        /// <summary>The primitive's workspace (fused ReLU's mask, in oneDNN's own format).</summary>
        Workspace,
    }

    /// <summary>One argument of an execution: its kind (DNNL_ARG_*), its buffer, and what it holds.</summary>
    public readonly record struct Argument(int Arg, nint Pointer, Holds Holds);

    /// <summary>Bytes of the workspace the primitive reads or writes (a fused ReLU's mask in training), 0 when it has none.</summary>
    public int WorkspaceBytes
    {
        get
        {
            byte* workspace = dnnl_primitive_desc_query_md(primitiveDesc, QueryWorkspaceMd, 0);
            return workspace == null ? 0 : checked((int)dnnl_memory_desc_get_size(workspace));
        }
    }

    /// <summary>
    /// Runs the primitive on these buffers and waits for it. Data buffers are float32; in a 16-bit
    /// format each is handed to oneDNN as a copy in that format (exact: the values are the
    /// format's), and the outputs (dst, diff_src) are widened back, exactly.
    /// </summary>
    public void Execute(params Argument[] arguments)
    {
        var args = new ExecArg[arguments.Length];
        // Only a 16-bit format stages: a float32 call (the bench's anchor) allocates nothing more.
        List<(ushort[] Bits, GCHandle Pin, nint Values, bool Output)>? staged = precision == DataPrecision.Float32 ? null : [];
        try
        {
            for (int k = 0; k < arguments.Length; k++)
            {
                nint pointer = arguments[k].Pointer;
                if (arguments[k].Holds == Holds.Data && staged is not null)
                {
                    var bits = new ushort[elements];
                    float* values = (float*)pointer;
                    for (int i = 0; i < elements; i++)
                        bits[i] = ToBits(values[i]);
                    var pin = GCHandle.Alloc(bits, GCHandleType.Pinned);
                    staged.Add((bits, pin, pointer, arguments[k].Arg is ArgDst or ArgDiffSrc));
                    pointer = pin.AddrOfPinnedObject();
                }

                byte* descriptor = arguments[k].Holds switch
                {
                    Holds.Data => data,
                    Holds.Channel => channel,
                    Holds.Workspace => dnnl_primitive_desc_query_md(primitiveDesc, QueryWorkspaceMd, 0),
                    _ => throw new ArgumentOutOfRangeException(nameof(arguments), arguments[k].Holds, "not a kind of argument"),
                };
                Check(dnnl_memory_create(out nint memory, descriptor, engine, (void*)pointer), "dnnl_memory_create");
                args[k] = new ExecArg { Arg = arguments[k].Arg, Memory = memory };
            }

            fixed (ExecArg* a = args)
                Check(dnnl_primitive_execute(primitive, stream, args.Length, a), "dnnl_primitive_execute");
            Check(dnnl_stream_wait(stream), "dnnl_stream_wait");
            foreach (var (bits, _, values, _) in staged?.Where(s => s.Output) ?? [])
            {
                for (int i = 0; i < elements; i++)
                    ((float*)values)[i] = FromBits(bits[i]);
            }
        }
        finally
        {
            foreach (var arg in args.Where(a => a.Memory != 0))
                dnnl_memory_destroy(arg.Memory);
            foreach (var (_, pin, _, _) in staged ?? [])
                pin.Free();
        }
    }

    /// <summary>oneDNN's data type of a precision.</summary>
    private static int DataType(DataPrecision precision) => precision switch
    {
        DataPrecision.Float32 => Float32,
        DataPrecision.BFloat16 => BFloat16,
        DataPrecision.Float16 => Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "not a data precision"),
    };

    /// <summary>A value of the 16-bit format (given as a float that holds it) as the format's bits.</summary>
    private ushort ToBits(float value) => precision == DataPrecision.BFloat16
        ? (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16)
        : BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>The format's bits as the float of the same value.</summary>
    private float FromBits(ushort bits) => precision == DataPrecision.BFloat16
        ? BitConverter.UInt32BitsToSingle((uint)bits << 16)
        : (float)BitConverter.UInt16BitsToHalf(bits);

    public void Dispose()
    {
        if (primitive != 0)
            dnnl_primitive_destroy(primitive);
        if (primitiveDesc != 0)
            dnnl_primitive_desc_destroy(primitiveDesc);
        if (forwardHint != 0)
            dnnl_primitive_desc_destroy(forwardHint);
        (primitive, primitiveDesc, forwardHint) = (0, 0, 0);
        NativeMemory.Free(data);
        NativeMemory.Free(channel);
        NativeMemory.Free(op);
    }
}
