using System.CommandLine;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet storage copy SOURCE DEST</c>: copy a folder/prefix (or one object) between storage locations,
/// e.g. a local dataset into <c>az://container/prefix</c> before submitting it, or a job's summary back.</summary>
internal static class StorageCommand
{
    private const int PageSize = 1000;
    private const int MaxParallelism = 64;

    public static Command Create()
    {
        var source = new Argument<string>("SOURCE") { Description = "Location to copy from (az://container/prefix, a folder or a file)." };
        var destination = new Argument<string>("DEST") { Description = "Location to copy to." };
        var parallelism = new Option<int>("--parallelism") { Description = "Objects copied at once.", DefaultValueFactory = _ => 8 };
        parallelism.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > MaxParallelism)
            {
                result.AddError($"--parallelism must be between 1 and {MaxParallelism}.");
            }
        });
        var copy = new Command("copy", "Copy every object under SOURCE to DEST, keeping relative paths.") { source, destination, parallelism };
        copy.SetAction(async (parse, ct) =>
        {
            var builder = CliHost.CreateBuilder(null, new Dictionary<string, string?>());
            builder.AddStorage();
            using var host = builder.Build();
            var storage = host.Services.GetRequiredService<IStorageResolver>();
            ResolvedLocation from, to;
            try
            {
                from = storage.Resolve(parse.GetRequiredValue(source));
                to = storage.Resolve(parse.GetRequiredValue(destination));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                CliErrors.Report(e.Message, e);
                return ExitCodes.InvalidArguments;
            }

            var copied = await CopyAsync(from, to, parse.GetValue(parallelism), ct);
            if (copied.Objects == 0)
            {
                var shown = parse.GetRequiredValue(source);
                CliErrors.Report(StorageLocation.Parse(shown).Scheme == StorageScheme.Azure || Path.Exists(shown)
                    ? $"SOURCE {shown} holds nothing to copy ({from.Describe()} is empty)."
                    : $"SOURCE {shown} does not exist.");
                return ExitCodes.InvalidArguments;
            }

            Console.Error.WriteLine($"copied {copied.Objects} objects, {copied.Bytes:N0} bytes, to {to.Describe()}");
            return ExitCodes.Ok;
        });
        return new Command("storage", "Move data between local folders and blob storage.") { copy };
    }

    private static async Task<(int Objects, long Bytes)> CopyAsync(ResolvedLocation from, ResolvedLocation to, int parallelism, CancellationToken cancellationToken)
    {
        var keys = new List<(string Key, string Relative)>();
        var single = from.Prefix.Length > 0 ? await from.Store.GetPropertiesAsync(from.Prefix, cancellationToken) : null;
        if (single is not null)
        {
            keys.Add((single.Key, single.Key[(single.Key.LastIndexOf('/') + 1)..]));
        }
        else
        {
            var prefix = from.Prefix.Length == 0 ? "" : from.Prefix.TrimEnd('/') + "/";
            await foreach (var item in from.Store.ListAllAsync(prefix, PageSize, cancellationToken))
            {
                keys.Add((item.Key, item.Key[prefix.Length..]));
            }
        }

        long bytes = 0;
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            await using var input = await from.Store.OpenReadAsync(entry.Key, ct);
            var written = await to.Store.CommitAsync(to.KeyFor(entry.Relative), (output, c) => input.CopyToAsync(output, c), ct);
            Interlocked.Add(ref bytes, written.Size);
        });
        return (keys.Count, bytes);
    }
}
