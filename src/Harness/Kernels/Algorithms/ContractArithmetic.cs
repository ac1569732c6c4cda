namespace BatchNorm.Harness.Kernels.Algorithms;

/// <summary>
/// The per-channel reductions of a <see cref="NumericalContract"/>, computed exactly as the contract
/// describes (one thread, no SIMD): the terms of a sum are cut into runs (one per block, one per lane,
/// one for the whole channel, or single terms for pairwise), each run is added one term after another,
/// and the runs are combined pairwise. In double the terms are added in double; in float, each term
/// and each partial sum is a float. Welford's update runs over the same runs and merges pairwise.
/// </summary>
internal sealed class ContractArithmetic(NumericalContract contract)
{
    private bool InDouble => contract.Sums == Accumulation.Double;

    /// <summary>Σ term(k) for k in [0, m): the contract's order and precision. m = 0 gives 0.</summary>
    public double Sum(int m, Func<int, double> term)
    {
        if (InDouble)
        {
            double total = 0;
            for (int k = 0; k < m; k++)
                total += term(k);
            return total;
        }

        var runs = Runs(m);
        float[] partial = new float[runs.Count];
        for (int r = 0; r < runs.Count; r++)
        {
            float s = 0;
            foreach (int k in runs[r])
                s += (float)term(k);
            partial[r] = s;
        }

        return Pairwise(partial, 0, partial.Length, (a, b) => a + b, 0f);
    }

    /// <summary>(mean, M2 = Σ (x - mean)²) by Welford's update over the contract's runs, merged pairwise (Chan, Golub and LeVeque).</summary>
    public (double Mean, double M2) Welford(int m, Func<int, float> x)
    {
        if (InDouble)
        {
            double mean = 0, m2 = 0;
            for (int k = 0; k < m; k++)
            {
                double delta = x(k) - mean;
                mean += delta / (k + 1);
                m2 += delta * (x(k) - mean);
            }

            return (mean, m2);
        }

        var runs = Runs(m);
        var states = new (float N, float Mean, float M2)[runs.Count];
        for (int r = 0; r < runs.Count; r++)
        {
            float n = 0, mean = 0, m2 = 0;
            foreach (int k in runs[r])
            {
                n += 1;
                float delta = x(k) - mean;
                mean += delta / n;
                m2 += delta * (x(k) - mean);
            }

            states[r] = (n, mean, m2);
        }

        var merged = Pairwise(states, 0, states.Length, Merge, (N: 0f, Mean: 0f, M2: 0f));
        return (merged.Mean, merged.M2);
    }

    /// <summary>Chan, Golub and LeVeque's merge of two (n, mean, M2) states, in float.</summary>
    private static (float N, float Mean, float M2) Merge((float N, float Mean, float M2) a, (float N, float Mean, float M2) b)
    {
        if (a.N == 0)
            return b;
        if (b.N == 0)
            return a;
        float n = a.N + b.N, delta = b.Mean - a.Mean;
        float mean = a.Mean + (delta * b.N / n);
        float m2 = a.M2 + b.M2 + (delta * delta * (a.N / n) * b.N);
        return (n, mean, m2);
    }

    /// <summary>The runs of a channel of m terms: lists of term indices, each added in order.</summary>
    private List<int[]> Runs(int m) => contract.Sums switch
    {
        Accumulation.FloatPairwise => Enumerable.Range(0, m).Select(k => new[] { k }).ToList(),
        Accumulation.FloatBlocked => Enumerable.Range(0, (m + contract.Block - 1) / contract.Block)
            .Select(b => Enumerable.Range(b * contract.Block, Math.Min(contract.Block, m - (b * contract.Block))).ToArray()).ToList(),
        Accumulation.FloatLanes => Enumerable.Range(0, Math.Min(contract.Block, m))
            .Select(lane => Enumerable.Range(0, ((m - lane - 1) / contract.Block) + 1).Select(j => lane + (j * contract.Block)).ToArray()).ToList(),
        Accumulation.FloatSequential => [Enumerable.Range(0, m).ToArray()],
        Accumulation.Double => throw new InvalidOperationException("double sums have no float runs"),
        _ => throw new InvalidOperationException($"{contract.Sums} has no float runs"),
    };

    private static T Pairwise<T>(T[] items, int from, int to, Func<T, T, T> combine, T empty)
    {
        if (to - from == 0)
            return empty;
        if (to - from == 1)
            return items[from];
        int middle = from + ((to - from) / 2);
        return combine(Pairwise(items, from, middle, combine, empty), Pairwise(items, middle, to, combine, empty));
    }
}
