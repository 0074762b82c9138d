using CsvHelper;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>
/// <c>predictions.csv</c>: a header, then one row per record in dataset order, for spreadsheets and tools that read
/// tables. RFC 4180 as CsvHelper writes it: comma separated, every record (the last one too) ends with CRLF, a field
/// with a comma, a quote, CR or LF, or a leading or trailing space or tab, is quoted, quotes inside it doubled; UTF-8
/// without a byte order mark; numbers in the invariant culture, probabilities in round-trip form ("R"), so that
/// parsing them gives back the same <see cref="float"/>.
/// </summary>
/// <remarks>
/// Columns (see <see cref="Columns"/>): <c>path,label,top1_index,top1_name,top1_probability, …, topK_probability,
/// error,error_kind</c>, K being the job's top-k. An empty field is a missing value: a record without a label, the
/// classes past the ones a record has, and the error columns of a classified image (so an empty error message reads
/// as none). Only the first K classes of a record fit its row. The thumbnail and fingerprint are left out.
/// </remarks>
public sealed class CsvOutputFormat : IOutputFormat
{
    public const string PredictionsName = "predictions.csv";

    public string Name => OutputFormats.Csv;

    public string FileName => PredictionsName;

    public IOutputWriter Create(OutputContext context)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(context.TopK, 1, nameof(context));
        return new Writer(context.Destination, context.TopK);
    }

    /// <summary>The header of a file with <paramref name="topK"/> classes per row.</summary>
    public static IReadOnlyList<string> Columns(int topK)
    {
        var columns = new List<string>(4 + (3 * topK)) { "path", "label" };
        for (var k = 1; k <= topK; k++)
        {
            columns.AddRange([$"top{k}_index", $"top{k}_name", $"top{k}_probability"]);
        }

        columns.AddRange(["error", "error_kind"]);
        return columns;
    }

    private sealed class Writer(Stream destination, int topK) : IOutputWriter
    {
        // WhenNeededOrWhitespace: a path with a leading or trailing space or tab survives readers that trim.
        private static readonly CsvWriterOptions Options = CsvWriterOptions.Default with
        {
            Quoting = CsvQuoting.WhenNeededOrWhitespace,
            NewLine = "\r\n",
            WriteByteOrderMark = false,
            FormatProvider = System.Globalization.CultureInfo.InvariantCulture,
        };

        private readonly CsvWriter _csv = CsvWriter.Create(destination, Options, leaveOpen: true);
        private bool _headerWritten;

        public async ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
        {
            await WriteHeaderOnceAsync(cancellationToken);
            _csv.WriteField(record.Path);
            _csv.WriteField(record.Label, default);
            var top = record.Top ?? [];
            for (var k = 0; k < topK; k++)
            {
                if (k < top.Count)
                {
                    _csv.WriteField(top[k].Index, default);
                    _csv.WriteField(top[k].Name);
                    _csv.WriteField(top[k].Probability, "R");
                }
                else
                {
                    _csv.WriteField((string?)null);
                    _csv.WriteField((string?)null);
                    _csv.WriteField((string?)null);
                }
            }

            _csv.WriteField(record.Error);
            _csv.WriteField(record.ErrorKind);
            await _csv.EndRecordAsync(cancellationToken);
        }

        public async ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken)
        {
            // An empty job still gets its header, so the file says what its columns are.
            await WriteHeaderOnceAsync(cancellationToken);
            await _csv.FlushAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => _csv.DisposeAsync();

        private async ValueTask WriteHeaderOnceAsync(CancellationToken cancellationToken)
        {
            if (_headerWritten)
            {
                return;
            }

            foreach (var column in Columns(topK))
            {
                _csv.WriteField(column);
            }

            await _csv.EndRecordAsync(cancellationToken);
            _headerWritten = true;
        }
    }
}
