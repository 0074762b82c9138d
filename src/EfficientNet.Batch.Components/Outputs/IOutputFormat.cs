using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>
/// One file a job can write from its merged records (<c>predictions.jsonl</c>, <c>predictions.csv</c>, …). The merge
/// streams every record, in dataset order, to one writer per format the job asked for, then completes them with the
/// job's summary; a new format is one class registered as <see cref="IOutputFormat"/>.
/// </summary>
public interface IOutputFormat
{
    /// <summary>The name a job asks for (<c>outputs: ["csv"]</c>), one of <see cref="Contracts.OutputFormats.All"/>.</summary>
    string Name { get; }

    /// <summary>The object the format writes under the job's output location.</summary>
    string FileName { get; }

    /// <summary>A writer into <paramref name="context"/>'s destination (a local spool file, committed once complete).</summary>
    IOutputWriter Create(OutputContext context);
}

/// <summary>Writes one format's file, record by record, in constant memory.</summary>
public interface IOutputWriter : IAsyncDisposable
{
    ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken);

    /// <summary>Ends the file. <paramref name="summary"/> is the job's summary (what a report shows).</summary>
    ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken);
}

/// <summary>Where a writer writes and what it knows of the job.</summary>
/// <param name="Destination">A seekable local stream the writer owns until it completes (it must not dispose it).</param>
/// <param name="TopK">Classes per record the job kept (the number of top-k columns a tabular format has).</param>
/// <param name="Spec">The job's request (review bounds, model), when the file is a job's.</param>
/// <param name="DatasetRoot">The location record paths are relative to (for exports that point at the images).</param>
public sealed record OutputContext(Stream Destination, int TopK, JobSpec? Spec = null, string? DatasetRoot = null, IReadOnlyList<string>? ClassNames = null);
