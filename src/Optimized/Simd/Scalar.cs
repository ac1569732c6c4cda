using System.Runtime.CompilerServices;
namespace BatchNorm.Optimized.Simd;

/// <summary>The one-lane width: the scalar fallback, and every vector loop's tail.</summary>
internal readonly unsafe struct Scalar(float value) : IFloatVector<Scalar>
{
    private readonly float value = value;

    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static Scalar Load(float* p) => new(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void Store(float* p, Scalar value) => *p = value.value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static void StoreNonTemporal(float* p, Scalar value) => *p = value.value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static Scalar Broadcast(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static Scalar Subtract(Scalar a, Scalar b) => new(a.value - b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static Scalar Multiply(Scalar a, Scalar b) => new(a.value * b.value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static Scalar MultiplyAdd(Scalar a, Scalar b, Scalar c) => new(MathF.FusedMultiplyAdd(a.value, b.value, c.value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static Scalar MaxWithZero(Scalar a) => new(MathF.Max(a.value, 0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]

    public static Scalar ZeroWhereClamped(Scalar a, Scalar gate) => new(gate.value <= 0 ? 0f : a.value);

    /// <summary>One double: the scalar accumulator.</summary>
    internal readonly struct Wide(double value) : IDoubleAccumulator<Wide, Scalar>
    {
        private readonly double value = value;

        public static Wide Zero => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Broadcast(double value) => new(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Load(double* p) => new(*p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void Store(double* p, Wide value) => *p = value.value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static Wide Add(Wide a, Wide b) => new(a.value + b.value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static double Sum(Wide value) => value.value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateDeviations(Scalar x, Wide shift, ref Wide sum, ref Wide squares)
        {
            double d = (double)x.value - shift.value;
            sum = new(sum.value + d);
            squares = new(Math.FusedMultiplyAdd(d, d, squares.value));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]

        public static void AccumulateGradients(Scalar x, Scalar dy, Wide mean, ref Wide sumDy, ref Wide sumDyDeviation)
        {
            double g = dy.value;
            sumDy = new(sumDy.value + g);
            sumDyDeviation = new(Math.FusedMultiplyAdd(g, (double)x.value - mean.value, sumDyDeviation.value));
        }
    }
}
