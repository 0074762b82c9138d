using System.ComponentModel.DataAnnotations;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>Section "Worker".</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Shards one worker process classifies at once. They share the device, one batch at a time
    /// (<see cref="DeviceTurns"/>): with two, the next shard reads and decodes while the current one runs its last
    /// batches, so the pipeline does not drain at every shard boundary. Each shard's pipeline holds its own batch
    /// tensors (<see cref="BatchesInFlight"/>), so memory grows with this.</summary>
    [Range(1, 64)]
    public int ConcurrentShards { get; set; } = 2;

    /// <summary>Shard messages fetched ahead from the broker, per worker.</summary>
    [Range(1, 256)]
    public int PrefetchCount { get; set; } = 2;

    /// <summary>Deliveries of one shard message a worker accepts (a redelivery follows a worker that stopped without an
    /// outcome, e.g. killed by the shard); past them the shard fails and its images become error records, so a shard that
    /// kills its worker cannot be redelivered forever. In-process retries of one delivery do not count.</summary>
    [Range(1, 100)]
    public int MaxShardDeliveries { get; set; } = 3;

    /// <summary>Images decoded in parallel; 0 = one per core.</summary>
    [Range(0, 256)]
    public int DecodeParallelism { get; set; }

    /// <summary>Batch tensors per shard in flight: one being run while the others are filled by the decoders.
    /// Bounds the pipeline's tensor memory to this many batches (b0, batch 8: 4.8 MB each).</summary>
    [Range(2, 16)]
    public int BatchesInFlight { get; set; } = 3;

    /// <summary>Image reads started ahead of the decoders (blob latency is hidden behind decoding); 0 = four per
    /// decode thread. Bounds the encoded bytes held in memory.</summary>
    [Range(0, 4096)]
    public int ReadAhead { get; set; }

    /// <summary>Largest encoded image accepted, in bytes; larger files become error records.</summary>
    [Range(1, long.MaxValue)]
    public long MaxImageBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Models loaded at start-up, before the worker reports ready, so that the first shard does not pay for
    /// loading (and a node dedicated to one model is warm when traffic arrives).</summary>
    [Microsoft.Extensions.Options.ValidateEnumeratedItems]
    public List<PreloadedModel> PreloadModels { get; set; } = [];

    /// <summary>Synthetic images run through each preloaded model before the worker reports ready (rounded up to whole
    /// batches; 0 = none), so that its first shard runs on optimised code and a planned session.</summary>
    [Range(0, 4096)]
    public int WarmUpImages { get; set; } = 64;

    /// <summary>Models kept loaded (<see cref="Inference.ModelSessionCache"/>); past it the least recently used is
    /// unloaded, once no shard uses it. 0: no limit. A loaded b0 takes about 60 MB on CPU, a b7 about 300 MB.</summary>
    [Range(0, 256)]
    public int MaxLoadedModels { get; set; } = 4;

    /// <summary>Roots a shard's dataset may be read from (<c>az://container/prefix</c>, <c>file:///root</c>); a shard
    /// outside them is refused before anything is read. Unset: <c>Coordinator:AllowedDatasets</c>. Empty as well: any
    /// <c>az://</c> location and no local path.</summary>
    public List<string>? AllowedDatasets { get; set; }

    /// <summary>Roots a shard's output may be written to, as <see cref="AllowedDatasets"/>; unset:
    /// <c>Coordinator:AllowedOutputs</c>. Outputs under <c>Coordinator:OutputLocation</c>, when set, are always allowed.</summary>
    public List<string>? AllowedOutputs { get; set; }

    /// <summary>Name reported in shard events; defaults to host name and process id.</summary>
    public string? Name { get; set; }

    public int EffectiveDecodeParallelism => DecodeParallelism > 0 ? DecodeParallelism : Environment.ProcessorCount;

    public int EffectiveReadAhead => ReadAhead > 0 ? ReadAhead : 4 * EffectiveDecodeParallelism;

    public string EffectiveName => string.IsNullOrWhiteSpace(Name) ? $"{Environment.MachineName}/{Environment.ProcessId}" : Name;
}

/// <summary>A model to load at start-up: imported weights, or untrained ones from <see cref="RandomSeed"/>.</summary>
public sealed class PreloadedModel
{
    [Required]
    public string Id { get; set; } = "";

    public int? RandomSeed { get; set; }
}

/// <summary>Checks <see cref="WorkerOptions"/>'s data annotations with code generated at compile time (no reflection at start-up).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class WorkerOptionsAnnotationsValidator : Microsoft.Extensions.Options.IValidateOptions<WorkerOptions>;
