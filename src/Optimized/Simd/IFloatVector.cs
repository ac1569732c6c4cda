namespace BatchNorm.Optimized.Simd;

/// <summary>
/// One SIMD width's float operations, as static members so that a kernel written once as a
/// generic method compiles to straight vector code for each width (the pattern of
/// System.Numerics.Tensors' TensorPrimitives). <see cref="Scalar"/> is the one-lane width, which
/// also runs every vector loop's tail.
/// </summary>
internal unsafe interface IFloatVector<TSelf> where TSelf : struct, IFloatVector<TSelf>
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Loads Count floats from p (no alignment needed).</summary>
    static abstract TSelf Load(float* p);

    /// <summary>Stores Count floats at p.</summary>
    static abstract void Store(float* p, TSelf value);

    /// <summary>
    /// Stores Count floats at p, which must be aligned to Count*4 bytes, bypassing the caches so a
    /// large output does not evict the inputs (the scalar width stores normally).
    /// </summary>
    static abstract void StoreNonTemporal(float* p, TSelf value);

    /// <summary>value in every lane.</summary>
    static abstract TSelf Broadcast(float value);

    /// <summary>a - b</summary>
    static abstract TSelf Subtract(TSelf a, TSelf b);

    /// <summary>a * b</summary>
    static abstract TSelf Multiply(TSelf a, TSelf b);

    /// <summary>a * b + c, rounded once</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>max(a, 0) as IEEE 754-2019 maximum, lane by lane: NaN stays NaN, -0 gives +0 (ReLU).</summary>
    static abstract TSelf MaxWithZero(TSelf a);

    /// <summary>+0 where gate ≤ 0, else a (a NaN gate passes a), lane by lane: ReLU's backward from its output.</summary>
    static abstract TSelf ZeroWhereClamped(TSelf a, TSelf gate);
}

/// <summary>
/// Count doubles (two vectors of half as many lanes each for the vector widths) that accumulate the
/// widened values of one <typeparamref name="TNarrow"/>. Sums run in double because a float
/// accumulator's error grows with M and would dominate the statistics; the widening is exact.
/// </summary>
internal unsafe interface IDoubleAccumulator<TSelf, TNarrow>
    where TSelf : struct, IDoubleAccumulator<TSelf, TNarrow>
    where TNarrow : struct, IFloatVector<TNarrow>
{
    /// <summary>All lanes 0.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>value in every lane.</summary>
    static abstract TSelf Broadcast(double value);

    /// <summary>Loads Count doubles from p.</summary>
    static abstract TSelf Load(double* p);

    /// <summary>Stores Count doubles at p.</summary>
    static abstract void Store(double* p, TSelf value);

    /// <summary>a + b</summary>
    static abstract TSelf Add(TSelf a, TSelf b);

    /// <summary>The sum of all lanes, lane order fixed.</summary>
    static abstract double Sum(TSelf value);

    /// <summary>d = widen(x) - shift; sum += d; squares += d * d</summary>
    static abstract void AccumulateDeviations(TNarrow x, TSelf shift, ref TSelf sum, ref TSelf squares);

    /// <summary>sumDy += widen(dy); sumDyDeviation += widen(dy) * (widen(x) - mean)</summary>
    static abstract void AccumulateGradients(TNarrow x, TNarrow dy, TSelf mean, ref TSelf sumDy, ref TSelf sumDyDeviation);
}
