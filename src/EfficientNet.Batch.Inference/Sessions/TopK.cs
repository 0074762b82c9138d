namespace EfficientNet.Batch.Inference;

/// <summary>A class index and its probability.</summary>
public readonly record struct ClassScore(int Index, float Probability);

/// <summary>The k most probable classes of one image.</summary>
public static class TopK
{
    /// <summary>
    /// Writes the <paramref name="k"/> highest probabilities into <paramref name="destination"/>, best first, and
    /// returns how many were written (fewer when there are fewer classes). Equal probabilities are ordered by
    /// lower class index, so results are deterministic; NaN ranks below every number.
    /// </summary>
    public static int Select(ReadOnlySpan<float> probabilities, int k, Span<ClassScore> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var count = Math.Min(k, probabilities.Length);
        if (destination.Length < count)
        {
            throw new ArgumentException($"Destination holds {destination.Length} scores; {count} are needed.", nameof(destination));
        }

        // Insertion into a sorted window of size k: O(n·k) worst case but O(n) in practice for k ≪ n (k = 5 of
        // 1000 classes), since almost every class fails the first comparison. Scanning in index order and
        // inserting only strictly better scores keeps the lower index first among equals.
        var filled = 0;
        for (var index = 0; index < probabilities.Length && count > 0; index++)
        {
            var candidate = new ClassScore(index, probabilities[index]);
            if (filled == count && !Ranks(candidate, destination[filled - 1]))
            {
                continue;
            }

            var position = filled < count ? filled++ : count - 1;
            while (position > 0 && Ranks(candidate, destination[position - 1]))
            {
                destination[position] = destination[position - 1];
                position--;
            }

            destination[position] = candidate;
        }

        return count;
    }

    /// <summary>Convenience overload returning a new array.</summary>
    public static ClassScore[] Select(ReadOnlySpan<float> probabilities, int k)
    {
        var result = new ClassScore[Math.Min(Math.Max(k, 0), probabilities.Length)];
        Select(probabilities, k, result);
        return result;
    }

    // True when a beats b, which was seen earlier (lower index): strictly higher, or a number against NaN.
    private static bool Ranks(ClassScore a, ClassScore b) =>
        a.Probability > b.Probability || (float.IsNaN(b.Probability) && !float.IsNaN(a.Probability));
}
