using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BatchNorm.Optimized.Simd;

/// <summary>The 128-bit width: 4 floats a vector.</summary>
internal readonly unsafe struct V128(Vector128<float> value) : IFloatVector<V128>
{
    private readonly Vector128<float> value = value;

    public static int Count => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V128 Load(float* p) => new(Vector128.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void Store(float* p, V128 value) => value.value.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void StoreNonTemporal(float* p, V128 value) => value.value.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V128 Broadcast(float value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V128 Subtract(V128 a, V128 b) => new(a.value - b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V128 Multiply(V128 a, V128 b) => new(a.value * b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V128 MultiplyAdd(V128 a, V128 b, V128 c) => new(Vector128.FusedMultiplyAdd(a.value, b.value, c.value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V128 MaxWithZero(V128 a) => new(Vector128.Max(a.value, Vector128<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V128 ZeroWhereClamped(V128 a, V128 gate) => new(Vector128.ConditionalSelect(Vector128.LessThanOrEqual(gate.value, Vector128<float>.Zero), Vector128<float>.Zero, a.value));

    /// <summary>4 doubles: the widened lower and upper halves of one V128.</summary>
    internal readonly struct Wide(Vector128<double> lower, Vector128<double> upper) : IDoubleAccumulator<Wide, V128>
    {
        private readonly Vector128<double> lower = lower;
        private readonly Vector128<double> upper = upper;

        public static Wide Zero => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Broadcast(double value) => new(Vector128.Create(value), Vector128.Create(value));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Load(double* p) => new(Vector128.Load(p), Vector128.Load(p + 2));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void Store(double* p, Wide value)
        {
            value.lower.Store(p);
            value.upper.Store(p + 2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Add(Wide a, Wide b) => new(a.lower + b.lower, a.upper + b.upper);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static double Sum(Wide value) => Vector128.Sum(value.lower) + Vector128.Sum(value.upper);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateDeviations(V128 x, Wide shift, ref Wide sum, ref Wide squares)
        {
            (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x.value);
            lo -= shift.lower;
            hi -= shift.upper;
            sum = new(sum.lower + lo, sum.upper + hi);
            squares = new(Vector128.FusedMultiplyAdd(lo, lo, squares.lower), Vector128.FusedMultiplyAdd(hi, hi, squares.upper));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateGradients(V128 x, V128 dy, Wide mean, ref Wide sumDy, ref Wide sumDyDeviation)
        {
            (Vector128<double> xLo, Vector128<double> xHi) = Vector128.Widen(x.value);
            (Vector128<double> gLo, Vector128<double> gHi) = Vector128.Widen(dy.value);
            sumDy = new(sumDy.lower + gLo, sumDy.upper + gHi);
            sumDyDeviation = new(
                Vector128.FusedMultiplyAdd(gLo, xLo - mean.lower, sumDyDeviation.lower),
                Vector128.FusedMultiplyAdd(gHi, xHi - mean.upper, sumDyDeviation.upper));
        }
    }
}
