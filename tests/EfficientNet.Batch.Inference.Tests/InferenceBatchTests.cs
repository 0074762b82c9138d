using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class InferenceBatchTests : IDisposable
{
    private static readonly InferenceOptions CpuOptions = new() { Device = InferenceDevice.Cpu, IntraOpThreads = 1 };
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Images_written_into_slots_are_classified_in_place_and_padding_slots_do_not_disturb_them()
    {
        var model = new TinyOnnxModel(resolution: 4, classCount: 5);
        using var session = ModelSession.Open(model.WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());
        var batch = session.RentBatch(4);
        var random = new Random(7);
        // Two real images; slots 2 and 3 stay padding (zeros), as in the last batch of a run.
        for (var slot = 0; slot < 2; slot++)
        {
            var image = batch.Image(slot);
            for (var i = 0; i < image.Length; i++)
            {
                image[i] = (float)((random.NextDouble() * 4) - 2);
            }
        }

        session.Run(batch);

        for (var slot = 0; slot < 2; slot++)
        {
            var expected = model.Expected(batch.Image(slot));
            var actual = batch.Probabilities(slot);
            for (var k = 0; k < session.ClassCount; k++)
            {
                Assert.Equal(expected[k], actual[k], 1e-5);
            }
        }

        session.ReturnBatch(batch);
    }

    [Fact]
    public void A_returned_batch_is_reused_instead_of_allocating_another()
    {
        var model = new TinyOnnxModel();
        using var session = ModelSession.Open(model.WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());

        var first = session.RentBatch(3);
        session.ReturnBatch(first);
        var second = session.RentBatch(3);
        var otherSize = session.RentBatch(2);

        Assert.Same(first, second);
        Assert.NotSame(first, otherSize);
        Assert.Equal(2, otherSize.Capacity);
    }

    [Fact]
    public void Slots_outside_the_batch_are_rejected()
    {
        var model = new TinyOnnxModel();
        using var session = ModelSession.Open(model.WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());
        var batch = session.RentBatch(2);

        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Image(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Probabilities(-1));
    }

    [Fact]
    public void Session_options_carry_the_configured_tuning()
    {
        var options = new InferenceOptions
        {
            GraphOptimization = GraphOptimization.Extended,
            IntraOpThreads = 3,
            InterOpThreads = 1,
            EnableMemoryArena = false,
            EnableMemoryPattern = false,
        };

        using var sessionOptions = ModelSession.CreateSessionOptions(options);

        Assert.Equal(GraphOptimizationLevel.ORT_ENABLE_EXTENDED, sessionOptions.GraphOptimizationLevel);
        Assert.Equal(3, sessionOptions.IntraOpNumThreads);
        Assert.Equal(1, sessionOptions.InterOpNumThreads);
        Assert.False(sessionOptions.EnableCpuMemArena);
        Assert.False(sessionOptions.EnableMemoryPattern);
        Assert.Equal(ExecutionMode.ORT_SEQUENTIAL, sessionOptions.ExecutionMode);
    }

    [Fact]
    public void Defaults_optimise_the_whole_graph_with_arena_and_memory_pattern()
    {
        using var sessionOptions = ModelSession.CreateSessionOptions(new InferenceOptions());

        Assert.Equal(GraphOptimizationLevel.ORT_ENABLE_ALL, sessionOptions.GraphOptimizationLevel);
        Assert.True(sessionOptions.EnableCpuMemArena);
        Assert.True(sessionOptions.EnableMemoryPattern);
    }

    [Theory]
    [InlineData(IntraOpSpinning.Off, "0", "0")]
    [InlineData(IntraOpSpinning.DuringRun, "1", "1")]
    [InlineData(IntraOpSpinning.Always, "1", "0")]
    public void Each_spinning_policy_sets_allow_spinning_and_force_spinning_stop(IntraOpSpinning spinning, string allow, string forceStop)
    {
        var entries = ModelSession.SpinningConfigEntries(spinning);

        Assert.Equal([("session.intra_op.allow_spinning", allow), ("session.force_spinning_stop", forceStop)], entries);
    }

    [Fact]
    public void Spinning_stops_when_a_batch_returns_by_default_so_that_the_decoders_get_the_cores()
    {
        Assert.Equal(IntraOpSpinning.DuringRun, new InferenceOptions().IntraOpSpinning);
    }
}
