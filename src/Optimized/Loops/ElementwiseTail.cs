namespace BatchNorm.Optimized.Loops;

/// <summary>
/// How the element-wise driver finishes a run after its last full vector. The kernel uses
/// <see cref="CorrectTail"/>; the planted bugs of the verifier's zoo instantiate the same kernel with
/// a tail that is skipped or strided, so their bug sits in the kernel's own loop and follows its
/// vector width. The members are static and constant per type, so the JIT folds them away.
/// </summary>
internal interface IElementwiseTail
{
    /// <summary>False: the tail loop never runs (its elements are left unwritten).</summary>
    static abstract bool Runs { get; }

    /// <summary>The tail loop's step: 1 visits every element.</summary>
    static abstract int Step { get; }
}

/// <summary>Every tail element, one lane at a time.</summary>
internal readonly struct CorrectTail : IElementwiseTail
{
    public static bool Runs => true;

    public static int Step => 1;
}
