using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>
/// <c>review-labelstudio.json</c>: the review queue in Label Studio's task import format — a JSON array of tasks,
/// each with <c>data.image</c> (where the image is, in a form Label Studio opens: <c>azure-blob://container/key</c> for
/// Azure Blob Storage through a cloud storage connection, <c>/data/local-files/?d=…</c> for local files served with
/// <c>LOCAL_FILES_SERVING_ENABLED</c>) and one prediction per top-k class as a pre-annotation
/// (<c>choices</c> result from <c>label</c> to <c>image</c>, scored with the class probability), so that a labeling team
/// accepts or corrects the model's answer. The labeling config it fits is <see cref="LabelingConfig"/>.
/// </summary>
public sealed class LabelStudioOutputFormat : IOutputFormat
{
    public const string FormatName = "labelstudio";
    public const string File = "review-labelstudio.json";
    public const string FromName = "label";
    public const string ToName = "image";

    public string Name => FormatName;

    public string FileName => File;

    /// <summary>The Label Studio labeling config the tasks fit (its choices are the class names).</summary>
    public static string LabelingConfig(IEnumerable<string> classNames) =>
        $"""
        <View>
          <Image name="{ToName}" value="$image"/>
          <Choices name="{FromName}" toName="{ToName}" choice="single" showInline="false">
        {string.Concat(classNames.Select(n => $"    <Choice value=\"{System.Security.SecurityElement.Escape(n)}\"/>\n"))}  </Choices>
        </View>
        """;

    /// <summary>Where Label Studio finds an image of a dataset rooted at <paramref name="root"/>.</summary>
    public static string ImageUri(string? root, string path)
    {
        var location = root is null ? path : StorageKeys.JoinLocation(root, path);
        if (location.StartsWith("az://", StringComparison.OrdinalIgnoreCase))
        {
            return "azure-blob://" + location["az://".Length..];
        }

        var local = location.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(location).LocalPath : location;
        return "/data/local-files/?d=" + Uri.EscapeDataString(local.TrimStart('/')).Replace("%2F", "/", StringComparison.Ordinal);
    }

    public IOutputWriter Create(OutputContext context)
    {
        var spec = context.Spec ?? throw new ArgumentException("The Label Studio export needs the job's request.", nameof(context));
        return new Writer(context.Destination, spec, context.DatasetRoot);
    }

    private sealed class Writer(Stream destination, JobSpec spec, string? root) : IOutputWriter
    {
        private readonly ReviewSpec _review = spec.Review ?? throw new ArgumentException("The Label Studio export needs the job's review bounds.", nameof(spec));
        private readonly string _modelVersion = spec.RandomWeights ? $"{spec.Model} (untrained, seed {spec.Seed})" : spec.Model;
        private bool _first = true;

        public async ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
        {
            if (ReviewSelector.Reasons(record, _review).Count == 0)
            {
                return;
            }

            var predictions = (record.Top ?? [])
                .Select((c, rank) => new LabelStudioPrediction(
                    rank == 0 ? _modelVersion : $"{_modelVersion} top-{(rank + 1).ToString(CultureInfo.InvariantCulture)}",
                    c.Probability,
                    [new LabelStudioResult($"r{rank + 1}", FromName, ToName, "choices", new LabelStudioChoices([c.Name]), c.Probability)]))
                .ToList();
            var task = new LabelStudioTask(new LabelStudioData(ImageUri(root, record.Path), record.Path, record.Error), predictions);
            await destination.WriteAsync(_first ? "[\n"u8.ToArray() : ",\n"u8.ToArray(), cancellationToken);
            _first = false;
            await destination.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(task, ReviewJsonContext.Default.LabelStudioTask), cancellationToken);
        }

        public async ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken)
        {
            await destination.WriteAsync(_first ? "[]\n"u8.ToArray() : "\n]\n"u8.ToArray(), cancellationToken);
            await destination.FlushAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A Label Studio task: the data a labeler sees, and the model's answers as pre-annotations.</summary>
public sealed record LabelStudioTask(
    [property: JsonPropertyName("data")] LabelStudioData Data,
    [property: JsonPropertyName("predictions")] IReadOnlyList<LabelStudioPrediction> Predictions);

/// <param name="Image">What the labeling config's <c>$image</c> resolves to.</param>
/// <param name="Path">The image's path in the job's records (to join corrections back).</param>
/// <param name="Error">Why the model could not classify it, when it could not.</param>
public sealed record LabelStudioData(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("error")] string? Error);

public sealed record LabelStudioPrediction(
    [property: JsonPropertyName("model_version")] string ModelVersion,
    [property: JsonPropertyName("score")] float Score,
    [property: JsonPropertyName("result")] IReadOnlyList<LabelStudioResult> Result);

public sealed record LabelStudioResult(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("from_name")] string FromName,
    [property: JsonPropertyName("to_name")] string ToName,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("value")] LabelStudioChoices Value,
    [property: JsonPropertyName("score")] float Score);

public sealed record LabelStudioChoices([property: JsonPropertyName("choices")] IReadOnlyList<string> Choices);

/// <summary><c>review-labelstudio.xml</c>: the labeling config the Label Studio tasks fit, its choices every class the
/// model can answer (the ImageNet classes of a zoo model; the classes seen in the records of a model with its own).</summary>
public sealed class LabelStudioConfigFormat : IOutputFormat
{
    public const string FormatName = "labelstudio-config";
    public const string File = "review-labelstudio.xml";

    public string Name => FormatName;

    public string FileName => File;

    public IOutputWriter Create(OutputContext context) => new Writer(context.Destination, context.ClassNames);

    private sealed class Writer(Stream destination, IReadOnlyList<string>? classNames) : IOutputWriter
    {
        private readonly SortedDictionary<int, string> _seen = [];

        public ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
        {
            foreach (var c in record.Top ?? [])
            {
                _seen.TryAdd(c.Index, c.Name);
            }

            return ValueTask.CompletedTask;
        }

        public async ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken)
        {
            // The model's whole label set when known (zoo or custom), else the classes the records named.
            IReadOnlyList<string> names = classNames is { Count: > 0 } ? classNames : [.. _seen.Values];
            await destination.WriteAsync(System.Text.Encoding.UTF8.GetBytes(LabelStudioOutputFormat.LabelingConfig(names)), cancellationToken);
            await destination.FlushAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
