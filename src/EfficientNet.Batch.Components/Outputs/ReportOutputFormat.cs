using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Reports;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary><c>report.html</c>: one self-contained page (summary, errors, histogram, galleries, low confidence,
/// evaluation, cost) rendered from bounded samples of the records (<see cref="ReportSampler"/>) and the job's summary.</summary>
public sealed class ReportOutputFormat : IOutputFormat
{
    public const string File = "report.html";

    public string Name => OutputFormats.Report;

    public string FileName => File;

    public IOutputWriter Create(OutputContext context) => new Writer(context.Destination);

    private sealed class Writer(Stream destination) : IOutputWriter
    {
        private readonly ReportSampler _samples = new();

        public ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
        {
            _samples.Add(record);
            return ValueTask.CompletedTask;
        }

        public async ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken)
        {
            await ReportRenderer.WriteAsync(destination, summary, _samples, cancellationToken);
            await destination.FlushAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
