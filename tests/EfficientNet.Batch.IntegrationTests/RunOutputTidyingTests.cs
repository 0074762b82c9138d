using EfficientNet.Batch.Cli.Commands;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary><c>effnet run</c> removing earlier runs' shard results from its output folder, while the coordinator in
/// the same process may be removing the very same folders (its cleanup after a completed job).</summary>
public sealed class RunOutputTidyingTests : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("effnet-tidy-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public void Earlier_runs_shard_results_are_removed_and_this_runs_are_kept()
    {
        var current = Guid.NewGuid();
        var earlier = Guid.NewGuid();
        Populate(current, earlier);

        var warnings = new StringWriter();
        RunCommand.RemoveEarlierRuns(_output, current, warnings);

        Assert.Equal(string.Empty, warnings.ToString());
        Assert.Equal([current.ToString("N")], Directory.GetDirectories(Path.Combine(_output, "shards")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Folders_removed_meanwhile_by_the_coordinator_count_as_removed()
    {
        var current = Guid.NewGuid();
        for (var round = 0; round < 200; round++)
        {
            Populate(current, [.. Enumerable.Range(0, 4).Select(_ => Guid.NewGuid())]);
            using var start = new Barrier(2);
            // The coordinator's cleanup, removing the whole shards folder at the same moment.
            var cleanup = Task.Run(() =>
            {
                start.SignalAndWait();
                try
                {
                    Directory.Delete(Path.Combine(_output, "shards"), recursive: true);
                }
                catch (IOException)
                {
                    // The other side removed a part first.
                }
            });
            start.SignalAndWait();

            var warnings = new StringWriter();
            RunCommand.RemoveEarlierRuns(_output, current, warnings);

            await cleanup;
            Assert.Equal(string.Empty, warnings.ToString());
        }
    }

    private void Populate(Guid current, params Guid[] earlier)
    {
        foreach (var job in earlier.Prepend(current))
        {
            var folder = Directory.CreateDirectory(Path.Combine(_output, "shards", job.ToString("N"))).FullName;
            for (var shard = 0; shard < 20; shard++)
            {
                File.WriteAllText(Path.Combine(folder, $"{shard:D6}.jsonl"), "{}\n");
            }
        }
    }
}
