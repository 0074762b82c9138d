using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Inference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Components.Tests;

[Collection(WorkerCollection.Name)]
public sealed class ImageBatchClassifierTests(WorkerFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    private static ImageInput FromFile(string path) => ImageInput.FromFile(path, name: Path.GetFileName(path));

    [Fact]
    public async Task Records_come_back_in_input_order_and_a_corrupt_image_becomes_an_error_record()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2);
        using var _ = sessions;
        var inputs = new[]
        {
            FromFile(fixture.Sample(0)),
            FromFile(fixture.BadInput("truncated.jpg")),
            FromFile(fixture.Sample(1)),
            FromFile(fixture.BadInput("not-an-image.jpg")),
            FromFile(fixture.Sample(2)),
        };
        var reported = 0;

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, inputs, 5, n => Interlocked.Add(ref reported, n), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(inputs.Select(i => i.Path), run.Records.Select(r => r.Path));
        Assert.Equal([false, true, false, true, false], run.Records.Select(r => r.IsError));
        Assert.Equal("corrupt", run.Records[1].ErrorKind);
        Assert.All(run.Records.Where(r => !r.IsError), r => Assert.Equal(5, r.Top!.Count));
        Assert.Equal(5, reported);
    }

    [Fact]
    public async Task Files_cut_short_or_renamed_are_error_records_naming_the_problem_in_every_format()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2);
        using var _ = sessions;
        var png = Encoded(new PngEncoder());
        var gif = Encoded(new GifEncoder());
        var tga = Encoded(new TgaEncoder());
        var inputs = new[]
        {
            FromFile(fixture.Sample(0)),
            ImageInput.FromBytes("cut.png", png[..^1]),
            ImageInput.FromBytes("cut.gif", gif[..(gif.Length / 2)]),
            ImageInput.FromBytes("cut.tga", tga[..^1]),
            ImageInput.FromBytes("renamed.jpg", png),
            ImageInput.FromBytes("whole.png", png),
        };

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, inputs, 1, null, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(
            [null, "corrupt", "corrupt", "corrupt", "extension-mismatch", null],
            run.Records.Select(r => r.ErrorKind));
        Assert.All(run.Records.Skip(1).Take(3), r => Assert.Contains("truncated", r.Error, StringComparison.Ordinal));
        Assert.Contains("holds a PNG image", run.Records[4].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inference_MaxImagePixels_makes_a_larger_photo_a_too_large_record()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2, maxImagePixels: 10_000);
        using var _ = sessions;

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, [FromFile(fixture.Sample(0))], 1, null, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("too-large", run.Records[0].ErrorKind);
        Assert.Contains("the limit is 10,000", run.Records[0].Error, StringComparison.Ordinal);
    }

    private static byte[] Encoded(IImageEncoder encoder)
    {
        using var image = new Image<Rgb24>(40, 30, new Rgb24(200, 100, 50));
        using var output = new MemoryStream();
        image.Save(output, encoder);
        return output.ToArray();
    }

    [Fact]
    public async Task Predictions_do_not_depend_on_the_batch_size_or_on_padding()
    {
        var inputs = Enumerable.Range(0, 3).Select(i => FromFile(fixture.Sample(i))).ToArray();
        var (padded, paddedSessions) = fixture.CreateClassifier(batchSize: 2); // batches of 2 + 1 padded slot
        var (whole, wholeSessions) = fixture.CreateClassifier(batchSize: 3, decodeThreads: 1);
        using var a = paddedSessions;
        using var b = wholeSessions;

        var first = await padded.ClassifyAsync(WorkerFixture.Model, inputs, 3, null, CancellationToken.None).WaitAsync(Deadline);
        var second = await whole.ClassifyAsync(WorkerFixture.Model, inputs, 3, null, CancellationToken.None).WaitAsync(Deadline);

        for (var i = 0; i < inputs.Length; i++)
        {
            var expected = second.Records[i].Top!;
            var actual = first.Records[i].Top!;
            Assert.Equal(expected.Select(c => c.Index), actual.Select(c => c.Index));
            Assert.Equal(expected[0].Probability, actual[0].Probability, 1e-5);
        }
    }

    [Fact]
    public async Task Many_more_images_than_batch_tensors_all_complete_under_backpressure()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2, decodeThreads: 2, batchesInFlight: 2, readAhead: 1);
        using var _ = sessions;
        var inputs = Enumerable.Range(0, 23).Select(i => FromFile(fixture.Sample(i % 4))).ToArray();

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, inputs, 1, null, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(23, run.Ok);
        Assert.Equal(run.Records[0].Top![0].Index, run.Records[20].Top![0].Index);
    }

    [Fact]
    public async Task A_missing_file_is_an_error_record_but_a_storage_outage_fails_the_run()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2);
        using var _ = sessions;
        var missing = new ImageInput("gone.jpg", null, _ => throw new FileNotFoundException("gone"));
        var outage = new ImageInput("x.jpg", null, async ct =>
        {
            await Task.Yield();
            throw new IOException("storage unreachable");
        });
        var good = Enumerable.Range(0, 6).Select(i => FromFile(fixture.Sample(i))).ToArray();

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, [.. good, missing], 1, null, CancellationToken.None).WaitAsync(Deadline);
        var error = await Assert.ThrowsAsync<IOException>(
            () => classifier.ClassifyAsync(WorkerFixture.Model, [.. good, outage, .. good], 1, null, CancellationToken.None).WaitAsync(Deadline));

        Assert.Equal("not-found", run.Records[^1].ErrorKind);
        Assert.Equal(6, run.Ok);
        Assert.Equal("storage unreachable", error.Message);
    }

    [Fact]
    public async Task An_image_over_the_byte_limit_is_a_too_large_record_and_the_others_are_classified()
    {
        var photos = Enumerable.Range(0, 4).Select(fixture.Sample).OrderBy(p => new FileInfo(p).Length).ToArray();
        var limit = new FileInfo(photos[0]).Length;
        Assert.True(new FileInfo(photos[1]).Length > limit, "the samples need two different sizes");
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2, maxImageBytes: limit);
        using var _ = sessions;

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, [FromFile(photos[0]), FromFile(photos[1])], 1, null, CancellationToken.None).WaitAsync(Deadline);

        Assert.False(run.Records[0].IsError);
        Assert.Equal("too-large", run.Records[1].ErrorKind);
        Assert.Contains($"limit is {limit}", run.Records[1].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decoders_paused_during_inference_or_overlapping_it_give_the_same_records()
    {
        var inputs = Enumerable.Range(0, 13).Select(i => FromFile(fixture.Sample(i % 4))).Append(FromFile(fixture.BadInput("truncated.jpg"))).ToArray();
        var (paused, pausedSessions) = fixture.CreateClassifier(batchSize: 4, spinning: IntraOpSpinning.Always);
        var (overlapping, overlappingSessions) = fixture.CreateClassifier(batchSize: 4, spinning: IntraOpSpinning.Off);
        using var _ = pausedSessions;
        using var __ = overlappingSessions;

        var a = await paused.ClassifyAsync(WorkerFixture.Model, inputs, 3, null, CancellationToken.None).WaitAsync(Deadline);
        var b = await overlapping.ClassifyAsync(WorkerFixture.Model, inputs, 3, null, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(13, a.Ok);
        Assert.Equal(
            a.Records.Select(r => (r.Path, r.ErrorKind, Top: r.Top is null ? "" : string.Join(',', r.Top.Select(c => c.Index)))),
            b.Records.Select(r => (r.Path, r.ErrorKind, Top: r.Top is null ? "" : string.Join(',', r.Top.Select(c => c.Index)))));
    }

    [Theory]
    [InlineData(ExecutionProviderNames.Cpu, IntraOpSpinning.Always, true)]
    [InlineData(ExecutionProviderNames.Cpu, IntraOpSpinning.DuringRun, true)]
    [InlineData(ExecutionProviderNames.Cpu, IntraOpSpinning.Off, false)]
    [InlineData(ExecutionProviderNames.Cuda, IntraOpSpinning.Always, false)]
    public void Decoders_pause_only_for_spinning_cpu_inference(string provider, IntraOpSpinning spinning, bool pauses)
    {
        Assert.Equal(pauses, ImageBatchClassifier.PausesDecoding(provider, spinning));
    }

    [Fact]
    public async Task Cancellation_stops_the_run()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2);
        using var _ = sessions;
        using var cancellation = new CancellationTokenSource();
        var inputs = Enumerable.Range(0, 200).Select(i => new ImageInput($"{i}.jpg", null, async ct =>
        {
            if (i == 10)
            {
                await cancellation.CancelAsync();
            }

            return File.OpenRead(fixture.Sample(i % 4));
        })).ToArray();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => classifier.ClassifyAsync(WorkerFixture.Model, inputs, 1, null, cancellation.Token).WaitAsync(Deadline));
    }
}
