using System.Text.Json;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Writes prediction records as JSON Lines (one compact object per line).</summary>
public static class PredictionWriter
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public static async Task WriteAsync(Stream destination, IEnumerable<PredictionRecord> records, CancellationToken cancellationToken)
    {
        await using var writer = new Utf8JsonWriter(destination, new JsonWriterOptions { SkipValidation = true });
        foreach (var record in records)
        {
            JsonSerializer.Serialize(writer, record, JobJsonContext.Default.PredictionRecord);
            await writer.FlushAsync(cancellationToken);
            await destination.WriteAsync(NewLine, cancellationToken);
            writer.Reset(destination);
        }

        await writer.FlushAsync(cancellationToken);
    }

    public static string ToJsonLine(PredictionRecord record) => JsonSerializer.Serialize(record, JobJsonContext.Default.PredictionRecord);

    public static PredictionRecord? FromJsonLine(string line) => JsonSerializer.Deserialize(line, JobJsonContext.Default.PredictionRecord);
}
