namespace BatchNorm.Reference;

/// <summary>
/// Neumaier's compensated summation in double. For n terms the result is within
/// 2u|S| + O(n u^2) * sum|x_i| of the exact sum S (u = 2^-53), so for any n a span can hold
/// (n &lt; 2^31) it is the exact sum correctly rounded up to about two units in the last place:
/// far beyond what a float32 result can resolve. An infinity or NaN term makes the sum NaN or
/// infinite, as IEEE arithmetic would.
/// </summary>
internal struct CompensatedSum
{
    private double sum;
    private double compensation;

    /// <summary>The compensated sum of the terms added so far; 0 when none were.</summary>
    public readonly double Value => double.IsFinite(sum) ? sum + compensation : sum;

    /// <summary>Adds one term.</summary>
    public void Add(double term)
    {
        double t = sum + term;
        // The low-order bits lost by this addition, recovered exactly (Neumaier's branch picks
        // the larger operand so the subtraction is exact).
        compensation += Math.Abs(sum) >= Math.Abs(term) ? (sum - t) + term : (term - t) + sum;
        sum = t;
    }
}
