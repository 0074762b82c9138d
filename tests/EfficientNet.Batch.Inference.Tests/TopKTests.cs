namespace EfficientNet.Batch.Inference.Tests;

public sealed class TopKTests
{
    [Fact]
    public void Returns_the_highest_probabilities_best_first()
    {
        float[] probabilities = [0.05f, 0.4f, 0.1f, 0.3f, 0.15f];

        var top = TopK.Select(probabilities, 3);

        Assert.Equal([new ClassScore(1, 0.4f), new ClassScore(3, 0.3f), new ClassScore(4, 0.15f)], top);
    }

    [Fact]
    public void Ties_go_to_the_lower_class_index()
    {
        float[] probabilities = [0.1f, 0.3f, 0.2f, 0.3f, 0.3f, 0.2f];

        var top = TopK.Select(probabilities, 4);

        Assert.Equal([1, 3, 4, 2], top.Select(score => score.Index));
    }

    [Fact]
    public void K_larger_than_the_class_count_returns_every_class()
    {
        Span<ClassScore> destination = stackalloc ClassScore[10];

        var written = TopK.Select([0.2f, 0.8f], 10, destination);

        Assert.Equal(2, written);
        Assert.Equal(new ClassScore(1, 0.8f), destination[0]);
        Assert.Equal(new ClassScore(0, 0.2f), destination[1]);
    }

    [Fact]
    public void Nan_ranks_below_every_number()
    {
        var top = TopK.Select([float.NaN, 0.1f, float.NaN, 0f], 3);

        Assert.Equal([1, 3, 0], top.Select(score => score.Index));
    }

    [Fact]
    public void Matches_a_full_sort_on_random_inputs()
    {
        var random = new Random(3);
        for (var trial = 0; trial < 200; trial++)
        {
            // Few distinct values force many ties.
            var probabilities = Enumerable.Range(0, 1000).Select(_ => random.Next(50) / 50f).ToArray();
            var k = random.Next(0, 12);

            var expected = probabilities.Select((p, i) => new ClassScore(i, p))
                .OrderByDescending(s => s.Probability).ThenBy(s => s.Index).Take(k).ToArray();

            Assert.Equal(expected, TopK.Select(probabilities, k));
        }
    }

    [Fact]
    public void A_too_small_destination_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => TopK.Select([0.5f, 0.5f], 2, new ClassScore[1]));
    }
}
