using System.Runtime.CompilerServices;
using BatchNorm.Optimized.Simd;

namespace BatchNorm.Optimized.Loops;

/// <summary>An element-wise operation: the value of output element i, at any width.</summary>
internal unsafe interface IElementwiseOperation
{
    /// <summary>Where the results go.</summary>
    float* Output { get; }

    /// <summary>The period of the coefficients' phase (<see cref="ICoefficients.Period"/>).</summary>
    nint Period { get; }

    /// <summary>The TV.Count results starting at offset i, whose coefficients start at <paramref name="phase"/>.</summary>
    TV Compute<TV>(nint i, nint phase) where TV : struct, IFloatVector<TV>;
}

/// <summary>
/// The one driver of every element-wise pass: full vectors, then the tail one lane at a time with
/// the same operation at the <see cref="Scalar"/> width (so a tail element gets bit for bit what a
/// vector lane would). A long run that streams or reads periodic coefficients does its output's
/// unaligned head lane by lane the same way (<see cref="MinAlignedRun"/>); with <c>streaming</c>
/// the body is then stored non-temporally. No operation reads or writes outside [0, n). The run starts
/// at phase 0; the phase (i mod the operation's period) advances with i.
/// </summary>
internal static unsafe class Elementwise
{
    /// <summary>
    /// Runs at least this long (in floats) start their vectors at an aligned output when they
    /// stream (non-temporal stores must be aligned; shorter runs are stored normally, as they would
    /// leave partial lines in the write-combining buffers) or read periodic coefficients: there an
    /// unaligned x and y (the usual case: .NET arrays of one size share their misalignment) split
    /// every load and store across two cache lines beside the four coefficient loads, and
    /// 64x256x14x14 channels-last inference took 0.61-0.65 ms a thread instead of 0.38.
    /// </summary>
    public const int MinAlignedRun = 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TV, TOp, TTail>(nint n, in TOp op, bool streaming)
        where TV : struct, IFloatVector<TV>
        where TOp : struct, IElementwiseOperation
        where TTail : struct, IElementwiseTail
    {
        // A copy the JIT can keep in registers: through the reference, it reloads every pointer on
        // every vector, because the stores might have changed them.
        TOp local = op;
        float* output = local.Output;
        // A period of 0 never wraps: the phase is then unused.
        nint period = local.Period == 0 ? nint.MaxValue : local.Period;
        nint i = 0, phase = 0;
        // Where the vectors start changes speed only: a head element gets what its lane would. A
        // planted tail bug (the verifier's zoo) must hit the same elements wherever the output lies,
        // or its verdicts would depend on the allocator, so only a correct tail lets a periodic run's head move.
        // Stryker disable once all : equivalent, where the vectors start changes speed only.
        bool alignHere = TV.Count > 1 && n >= MinAlignedRun && (streaming || (local.Period != 0 && TTail.Runs && TTail.Step == 1));
        if (alignHere)
        {
            nuint alignment = (nuint)(TV.Count * sizeof(float)) - 1;
            for (; i < n && ((nuint)(output + i) & alignment) != 0; i++, phase = Advance(phase, 1, period))
                Scalar.Store(output + i, local.Compute<Scalar>(i, phase));
        }

        // Stryker disable once all : equivalent, which stores are non-temporal changes speed only; both kinds store the same bits.
        if (streaming && alignHere)
        {
            for (; i <= n - TV.Count; i += TV.Count, phase = Advance(phase, TV.Count, period))
                TV.StoreNonTemporal(output + i, local.Compute<TV>(i, phase));
        }

        for (; i <= n - TV.Count; i += TV.Count, phase = Advance(phase, TV.Count, period))
            TV.Store(output + i, local.Compute<TV>(i, phase));
        if (!TTail.Runs)
            return;
        for (; i < n; i += TTail.Step, phase = Advance(phase, TTail.Step, period))
            Scalar.Store(output + i, local.Compute<Scalar>(i, phase));
    }

    /// <summary>(phase + step) mod period, for a phase already below the period.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint Advance(nint phase, nint step, nint period)
    {
        phase += step;
        // Once for a period of at least the step; a few times for fewer channels than lanes.
        while (phase >= period)
            phase -= period;
        return phase;
    }
}

/// <summary>The coefficient slots of <see cref="NormalizeOperation{TC, TA, TM}"/>.</summary>
internal static class NormalizeSlots
{
    /// <summary>The mean's leading float (hi).</summary>
    public const int MeanHigh = 0;

    /// <summary>The mean's remainder, mean - hi, as a float (lo; 0 where the mean is a float).</summary>
    public const int MeanLow = 1;

    /// <summary>a = gamma·istd.</summary>
    public const int Scale = 2;

    /// <summary>b = beta.</summary>
    public const int Shift = 3;
}

/// <summary>How <see cref="NormalizeOperation{TC, TA, TM}"/> holds the mean: one type per form, so each compiles to its own loop.</summary>
internal interface IMeanForm
{
    /// <summary>True when the mean has a low part (<see cref="NormalizeSlots.MeanLow"/>) to subtract.</summary>
    static abstract bool HasLow { get; }
}

/// <summary>A mean computed in double: the float pair hi + lo.</summary>
internal readonly struct MeanPair : IMeanForm
{
    public static bool HasLow => true;
}

/// <summary>A mean that is a float already (the running mean): hi alone, its lo is 0 and (x - hi) - 0 is x - hi, so the subtraction is left out.</summary>
internal readonly struct MeanFloat : IMeanForm
{
    public static bool HasLow => false;
}

/// <summary>
/// y = activation(((x - hi) - lo) * a + b), coefficients (hi, lo, a, b). The mean is the float pair
/// hi + lo, so x - mean is formed to within a rounding of its own size even when the mean dwarfs the
/// spread; the multiply-add rounds once, and ReLU is exact. With <see cref="MeanFloat"/>, lo is
/// neither loaded nor subtracted.
/// </summary>
internal readonly unsafe struct NormalizeOperation<TC, TA, TM>(float* x, float* y, TC coefficients) : IElementwiseOperation
    where TC : struct, ICoefficients
    where TA : struct, IActivation
    where TM : struct, IMeanForm
{
    public float* Output => y;

    public nint Period => coefficients.Period;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Compute<TV>(nint i, nint phase) where TV : struct, IFloatVector<TV>
    {
        TV centered = TV.Subtract(TV.Load(x + i), coefficients.Get<TV>(NormalizeSlots.MeanHigh, phase));
        if (TM.HasLow)
            centered = TV.Subtract(centered, coefficients.Get<TV>(NormalizeSlots.MeanLow, phase));
        return TA.Apply(TV.MultiplyAdd(centered, coefficients.Get<TV>(NormalizeSlots.Scale, phase), coefficients.Get<TV>(NormalizeSlots.Shift, phase)));
    }
}

/// <summary>The coefficient slots of <see cref="TrainingInputGradientOperation{TC, TG}"/>.</summary>
internal static class TrainingGradientSlots
{
    /// <summary>The saved mean.</summary>
    public const int Mean = 0;

    /// <summary>mdy = mean(dy) = dbeta/M.</summary>
    public const int MeanDy = 1;

    /// <summary>k1 = gamma·istd.</summary>
    public const int DyScale = 2;

    /// <summary>k3 = -istd·dgamma/M.</summary>
    public const int CentredScale = 3;
}

/// <summary>
/// Training-mode dx = k1 * ((dy - mdy) + (x - mean) * k3), coefficients (mean, mdy, k1, k3) with
/// mdy = mean(dy), k1 = gamma*istd, k3 = -istd*dgamma/M. Written this way, M = 1 (dy = mdy,
/// x = mean) and a constant channel (x = mean) give their exact results. k1 is applied last, not
/// folded into k2 = k1*k3 = -gamma*istd²*dgamma/M: of the order of istd², k2 falls below float's
/// normal range at spreads near 1e19 and was stored subnormal with bits lost (5.5x dx's bound at a
/// spread of 4e18), where k1 and k3, of the order of istd, stay normal.
/// </summary>
internal readonly unsafe struct TrainingInputGradientOperation<TC, TG>(float* x, TG dy, float* dx, TC coefficients) : IElementwiseOperation
    where TC : struct, ICoefficients
    where TG : struct, IGradientSource<TG>
{
    public float* Output => dx;

    public nint Period => coefficients.Period;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Compute<TV>(nint i, nint phase) where TV : struct, IFloatVector<TV>
    {
        TV centered = TV.Subtract(TV.Load(x + i), coefficients.Get<TV>(TrainingGradientSlots.Mean, phase));
        TV dyTerm = TV.Subtract(dy.Load<TV>(i), coefficients.Get<TV>(TrainingGradientSlots.MeanDy, phase));
        return TV.Multiply(TV.MultiplyAdd(centered, coefficients.Get<TV>(TrainingGradientSlots.CentredScale, phase), dyTerm), coefficients.Get<TV>(TrainingGradientSlots.DyScale, phase));
    }
}

/// <summary>The coefficient slot of <see cref="ScaleOperation{TC, TG}"/>.</summary>
internal static class ScaleSlots
{
    /// <summary>k1 = gamma·istd.</summary>
    public const int Scale = 0;
}

/// <summary>Inference-mode dx = dy * k1, coefficient k1 = gamma*istd in <see cref="ScaleSlots.Scale"/>.</summary>
internal readonly unsafe struct ScaleOperation<TC, TG>(TG dy, float* dx, TC coefficients) : IElementwiseOperation
    where TC : struct, ICoefficients
    where TG : struct, IGradientSource<TG>
{
    public float* Output => dx;

    public nint Period => coefficients.Period;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Compute<TV>(nint i, nint phase) where TV : struct, IFloatVector<TV> =>
        TV.Multiply(dy.Load<TV>(i), coefficients.Get<TV>(ScaleSlots.Scale, phase));
}
