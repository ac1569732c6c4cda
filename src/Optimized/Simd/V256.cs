using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BatchNorm.Optimized.Simd;

/// <summary>The 256-bit width: 8 floats a vector.</summary>
internal readonly unsafe struct V256(Vector256<float> value) : IFloatVector<V256>
{
    private readonly Vector256<float> value = value;

    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V256 Load(float* p) => new(Vector256.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void Store(float* p, V256 value) => value.value.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void StoreNonTemporal(float* p, V256 value) => value.value.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V256 Broadcast(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V256 Subtract(V256 a, V256 b) => new(a.value - b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V256 Multiply(V256 a, V256 b) => new(a.value * b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V256 MultiplyAdd(V256 a, V256 b, V256 c) => new(Vector256.FusedMultiplyAdd(a.value, b.value, c.value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V256 MaxWithZero(V256 a) => new(Vector256.Max(a.value, Vector256<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static V256 ZeroWhereClamped(V256 a, V256 gate) => new(Vector256.ConditionalSelect(Vector256.LessThanOrEqual(gate.value, Vector256<float>.Zero), Vector256<float>.Zero, a.value));

    /// <summary>8 doubles: the widened lower and upper halves of one V256.</summary>
    internal readonly struct Wide(Vector256<double> lower, Vector256<double> upper) : IDoubleAccumulator<Wide, V256>
    {
        private readonly Vector256<double> lower = lower;
        private readonly Vector256<double> upper = upper;

        public static Wide Zero => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Broadcast(double value) => new(Vector256.Create(value), Vector256.Create(value));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Load(double* p) => new(Vector256.Load(p), Vector256.Load(p + 4));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void Store(double* p, Wide value)
        {
            value.lower.Store(p);
            value.upper.Store(p + 4);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Add(Wide a, Wide b) => new(a.lower + b.lower, a.upper + b.upper);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static double Sum(Wide value) => Vector256.Sum(value.lower) + Vector256.Sum(value.upper);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateDeviations(V256 x, Wide shift, ref Wide sum, ref Wide squares)
        {
            (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x.value);
            lo -= shift.lower;
            hi -= shift.upper;
            sum = new(sum.lower + lo, sum.upper + hi);
            squares = new(Vector256.FusedMultiplyAdd(lo, lo, squares.lower), Vector256.FusedMultiplyAdd(hi, hi, squares.upper));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateGradients(V256 x, V256 dy, Wide mean, ref Wide sumDy, ref Wide sumDyDeviation)
        {
            (Vector256<double> xLo, Vector256<double> xHi) = Vector256.Widen(x.value);
            (Vector256<double> gLo, Vector256<double> gHi) = Vector256.Widen(dy.value);
            sumDy = new(sumDy.lower + gLo, sumDy.upper + gHi);
            sumDyDeviation = new(
                Vector256.FusedMultiplyAdd(gLo, xLo - mean.lower, sumDyDeviation.lower),
                Vector256.FusedMultiplyAdd(gHi, xHi - mean.upper, sumDyDeviation.upper));
        }
    }
}
