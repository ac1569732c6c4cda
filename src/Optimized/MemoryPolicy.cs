namespace BatchNorm.Optimized;

/// <summary>
/// How a call touches memory, never what it computes: whether its output is stored non-temporally
/// (<see cref="StreamingPolicy"/>) and how a channels-last reduction walks its rows (<see cref="RowsWalkPolicy"/>).
/// Every policy stores the same bits (the streamed and walk-by-walk tests); they differ only in speed.
/// </summary>
/// <param name="Streaming">True when the output is stored non-temporally.</param>
/// <param name="Walk">The rows walk of a channels-last reduction (<see cref="RowsWalk.Columns"/>, unused, for a call that reduces no rows).</param>
internal readonly record struct MemoryPolicy(bool Streaming, RowsWalk Walk)
{
    /// <summary>
    /// The rule's policy for a call over <paramref name="plan"/> of <paramref name="elements"/> elements that reads
    /// <paramref name="inputTensors"/> tensors and writes one (and reduces, when <paramref name="reduces"/>), from the
    /// size of the last-level cache.
    /// </summary>
    public static MemoryPolicy Rule(in Partition plan, long elements, int inputTensors, bool reduces) =>
        new(StreamingPolicy.Streams(elements, inputTensors, RowsWalkPolicy.IsWide(plan)), reduces ? RowsWalkPolicy.For(plan, inputTensors) : RowsWalk.Columns);

    /// <summary>The policy in a few words: "streamed" or "cached" stores, then the rows walk (which only a channels-last reduction takes).</summary>
    public override string ToString() => $"{(Streaming ? "streamed" : "cached")}/{Walk}";

    /// <summary>True when a call's data (its inputs and its output) is at least an eighth of the last-level cache: it has more than one candidate.</summary>
    public static bool Tunable(long elements, int inputTensors) => (inputTensors + 1) * elements * sizeof(float) >= LastLevelCache.Bytes / 8;

    /// <summary>
    /// The policies a tuner times on such a call, the rule's first. Calls whose data is under an eighth of the
    /// last-level cache have one: the rule's (they stay in cache, where streaming only loses, and they are too short
    /// for a few timed calls to tell policies apart). Larger ones have both store kinds, and a reduction over wide
    /// channels-last rows every walk, since which is fastest depends on the cache and the core, not only on sizes.
    /// </summary>
    public static MemoryPolicy[] Candidates(in Partition plan, long elements, int inputTensors, bool reduces)
    {
        var rule = Rule(plan, elements, inputTensors, reduces);
        if (!Tunable(elements, inputTensors))
            return [rule];
        RowsWalk[] walks = reduces && RowsWalkPolicy.IsWide(plan) ? Enum.GetValues<RowsWalk>() : [rule.Walk];
        var candidates = new List<MemoryPolicy> { rule };
        foreach (bool streaming in new[] { rule.Streaming, !rule.Streaming })
        {
            foreach (var walk in walks)
            {
                var policy = new MemoryPolicy(streaming, walk);
                if (policy != rule)
                    candidates.Add(policy);
            }
        }

        return [.. candidates];
    }
}
