using EfficientNet.Batch.Testing;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>A model store with efficientnet_b0's random weights built once for the whole test run, and the shared
/// sample photos (…/shared/data, never copied into the repository).</summary>
public sealed class WorkerFixture : IDisposable
{
    public const string ModelId = "efficientnet_b0";

    public static readonly ModelRef Model = new(ModelId, RandomWeights: true, Seed: 0);

    private readonly string _root = Directory.CreateTempSubdirectory("effnet-components-tests-").FullName;

    public WorkerFixture()
    {
        Models = new ModelStore(_root);
        // Build the graph now, once, rather than inside the first test's timing.
        Models.ResolveAsync(ModelId, 0, CancellationToken.None).GetAwaiter().GetResult();
    }

    public ModelStore Models { get; }

    public string SamplesDirectory => SharedTestFolder.Samples;

    public string Sample(int index) => Directory.EnumerateFiles(SamplesDirectory, "*.JPEG").Order(StringComparer.Ordinal).ElementAt(index);

    public string BadInput(string name) => Path.Combine(SharedTestFolder.BadInputs, name);

    public (ImageBatchClassifier Classifier, ModelSessionCache Sessions) CreateClassifier(
        int batchSize,
        int decodeThreads = 2,
        int batchesInFlight = 3,
        int readAhead = 0,
        long maxImageBytes = 64L * 1024 * 1024,
        IntraOpSpinning spinning = IntraOpSpinning.Always,
        long maxImagePixels = ImagePreprocessor.DefaultMaxPixels)
    {
        var inference = Options.Create(new InferenceOptions
        {
            Device = InferenceDevice.Cpu, IntraOpThreads = 1, BatchSize = batchSize, IntraOpSpinning = spinning, MaxImagePixels = maxImagePixels,
        });
        var worker = Options.Create(new WorkerOptions
        {
            DecodeParallelism = decodeThreads, BatchesInFlight = batchesInFlight, ReadAhead = readAhead, MaxImageBytes = maxImageBytes,
        });
        var sessions = new ModelSessionCache(inference, new ExecutionProviderSelector(), NullLogger<ModelSessionCache>.Instance);
        // As AddWorkerComponents builds it: the preprocessors' pixel limit is Inference:MaxImagePixels.
        return (new ImageBatchClassifier(Models, sessions, new PreprocessorCache(inference.Value.MaxImagePixels), worker, inference, new DeviceTurns()), sessions);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class WorkerCollection : ICollectionFixture<WorkerFixture>
{
    public const string Name = "worker";
}
