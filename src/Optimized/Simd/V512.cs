using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BatchNorm.Optimized.Simd;

/// <summary>The 512-bit width: 16 floats a vector.</summary>
internal readonly unsafe struct V512(Vector512<float> value) : IFloatVector<V512>
{
    private readonly Vector512<float> value = value;

    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V512 Load(float* p) => new(Vector512.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void Store(float* p, V512 value) => value.value.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void StoreNonTemporal(float* p, V512 value) => value.value.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V512 Broadcast(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V512 Subtract(V512 a, V512 b) => new(a.value - b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V512 Multiply(V512 a, V512 b) => new(a.value * b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V512 MultiplyAdd(V512 a, V512 b, V512 c) => new(Vector512.FusedMultiplyAdd(a.value, b.value, c.value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V512 MaxWithZero(V512 a) => new(Vector512.Max(a.value, Vector512<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V512 ZeroWhereClamped(V512 a, V512 gate) => new(Vector512.ConditionalSelect(Vector512.LessThanOrEqual(gate.value, Vector512<float>.Zero), Vector512<float>.Zero, a.value));

    /// <summary>16 doubles: the widened lower and upper halves of one V512.</summary>
    internal readonly struct Wide(Vector512<double> lower, Vector512<double> upper) : IDoubleAccumulator<Wide, V512>
    {
        private readonly Vector512<double> lower = lower;
        private readonly Vector512<double> upper = upper;

        public static Wide Zero => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Broadcast(double value) => new(Vector512.Create(value), Vector512.Create(value));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Load(double* p) => new(Vector512.Load(p), Vector512.Load(p + 8));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void Store(double* p, Wide value)
        {
            value.lower.Store(p);
            value.upper.Store(p + 8);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Add(Wide a, Wide b) => new(a.lower + b.lower, a.upper + b.upper);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static double Sum(Wide value) => Vector512.Sum(value.lower) + Vector512.Sum(value.upper);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateDeviations(V512 x, Wide shift, ref Wide sum, ref Wide squares)
        {
            (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x.value);
            lo -= shift.lower;
            hi -= shift.upper;
            sum = new(sum.lower + lo, sum.upper + hi);
            squares = new(Vector512.FusedMultiplyAdd(lo, lo, squares.lower), Vector512.FusedMultiplyAdd(hi, hi, squares.upper));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateGradients(V512 x, V512 dy, Wide mean, ref Wide sumDy, ref Wide sumDyDeviation)
        {
            (Vector512<double> xLo, Vector512<double> xHi) = Vector512.Widen(x.value);
            (Vector512<double> gLo, Vector512<double> gHi) = Vector512.Widen(dy.value);
            sumDy = new(sumDy.lower + gLo, sumDy.upper + gHi);
            sumDyDeviation = new(
                Vector512.FusedMultiplyAdd(gLo, xLo - mean.lower, sumDyDeviation.lower),
                Vector512.FusedMultiplyAdd(gHi, xHi - mean.upper, sumDyDeviation.upper));
        }
    }
}
