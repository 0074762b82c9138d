using System.Text.Json;
using System.Text.Json.Serialization;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary><c>review.jsonl</c>: one line per image a person should check (see <see cref="ReviewSelector"/>), with why,
/// the model's top-k and the top-1/top-2 margin. Written when the job has <see cref="JobSpec.Review"/>.</summary>
public sealed class ReviewOutputFormat : IOutputFormat
{
    public const string FormatName = "review";
    public const string File = "review.jsonl";

    public string Name => FormatName;

    public string FileName => File;

    public IOutputWriter Create(OutputContext context) =>
        new Writer(context.Destination, context.Spec?.Review ?? throw new ArgumentException("The review queue needs the job's review bounds.", nameof(context)));

    private sealed class Writer(Stream destination, ReviewSpec spec) : IOutputWriter
    {
        private static readonly byte[] NewLine = "\n"u8.ToArray();

        public async ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
        {
            var reasons = ReviewSelector.Reasons(record, spec);
            if (reasons.Count == 0)
            {
                return;
            }

            var line = new ReviewLine(
                record.Path, reasons, record.Top, record.IsError ? null : Math.Round(ReviewSelector.Margin(record), 6), record.Label, record.Error, record.ErrorKind);
            await destination.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(line, ReviewJsonContext.Default.ReviewLine), cancellationToken);
            await destination.WriteAsync(NewLine, cancellationToken);
        }

        public async ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken) =>
            await destination.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>One line of review.jsonl.</summary>
public sealed record ReviewLine(
    string Path,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<PredictedClass>? Top,
    double? Margin,
    int? Label,
    string? Error,
    string? ErrorKind);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReviewLine))]
[JsonSerializable(typeof(LabelStudioTask))]
internal sealed partial class ReviewJsonContext : JsonSerializerContext
{
}
