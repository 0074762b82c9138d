using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using Parquet;
using Parquet.Schema;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>
/// <c>predictions.parquet</c>: one row per record in dataset order, typed columns, Snappy compressed.
/// <code>
/// required binary path (STRING);
/// optional int32 label;
/// optional group top (LIST) { repeated group list { optional group element {
///     required int32 index; required binary name (STRING); required float probability; } } }
/// optional binary error (STRING);
/// optional binary error_kind (STRING);
/// </code>
/// <c>top</c> is null for a record without classes (an error) and holds the record's classes, best first, otherwise.
/// The thumbnail and fingerprint are left out.
/// </summary>
/// <remarks>
/// Rows are buffered column by column and written as a row group every <see cref="RowGroupSize"/> records, so a
/// writer holds at most one row group whatever the job's size; the footer is written when the file completes.
/// </remarks>
public sealed class ParquetOutputFormat : IOutputFormat
{
    public const string PredictionsName = "predictions.parquet";

    /// <summary>Rows per row group: large enough for good compression and column statistics, small enough that a
    /// writer's buffers stay at a few megabytes.</summary>
    public const int DefaultRowGroupSize = 65_536;

    public ParquetOutputFormat()
        : this(DefaultRowGroupSize)
    {
    }

    /// <param name="rowGroupSize">Rows per row group (tests use small ones to get several groups).</param>
    public ParquetOutputFormat(int rowGroupSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowGroupSize, 1);
        RowGroupSize = rowGroupSize;
    }

    public int RowGroupSize { get; }

    public string Name => OutputFormats.Parquet;

    public string FileName => PredictionsName;

    public IOutputWriter Create(OutputContext context) => new Writer(context.Destination, RowGroupSize);

    private sealed class Writer : IOutputWriter
    {
        private static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.Snappy };

        private readonly DataField<string> _path = new("path", nullable: false);
        private readonly DataField<int?> _label = new("label");
        private readonly DataField<int> _index = new("index");
        private readonly DataField<string> _name = new("name", nullable: false);
        private readonly DataField<float> _probability = new("probability");
        private readonly DataField<string> _error = new("error", nullable: true);
        private readonly DataField<string> _errorKind = new("error_kind", nullable: true);
        private readonly ParquetSchema _schema;
        private readonly Stream _destination;
        private readonly int _rowGroupSize;

        // One row group's columns. A list's leaves share their repetition and definition levels.
        private readonly ReadOnlyMemory<char>[] _paths;
        private readonly int?[] _labels;
        private readonly ReadOnlyMemory<char>?[] _errors;
        private readonly ReadOnlyMemory<char>?[] _errorKinds;
        private readonly GrowingColumn<int> _topRepetition = new();
        private readonly GrowingColumn<int> _topDefinition = new();
        private readonly GrowingColumn<int> _topIndexes = new();
        private readonly GrowingColumn<ReadOnlyMemory<char>> _topNames = new();
        private readonly GrowingColumn<float> _topProbabilities = new();
        private int _rows;
        private ParquetWriter? _writer;
        private bool _completed;

        public Writer(Stream destination, int rowGroupSize)
        {
            _destination = destination;
            _rowGroupSize = rowGroupSize;
            _schema = new ParquetSchema(
                _path,
                _label,
                new ListField("top", new StructField(ListField.ElementName, _index, _name, _probability)),
                _error,
                _errorKind);
            _paths = new ReadOnlyMemory<char>[rowGroupSize];
            _labels = new int?[rowGroupSize];
            _errors = new ReadOnlyMemory<char>?[rowGroupSize];
            _errorKinds = new ReadOnlyMemory<char>?[rowGroupSize];
        }

        public async ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
        {
            if (_completed)
            {
                throw new InvalidOperationException("The Parquet file is complete: no record can follow its footer.");
            }

            _paths[_rows] = record.Path.AsMemory();
            _labels[_rows] = record.Label;
            _errors[_rows] = record.Error?.AsMemory();
            _errorKinds[_rows] = record.ErrorKind?.AsMemory();
            AddTop(record.Top);
            _rows++;
            if (_rows == _rowGroupSize)
            {
                await WriteRowGroupAsync(cancellationToken);
            }
        }

        public async ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken)
        {
            if (_rows > 0)
            {
                await WriteRowGroupAsync(cancellationToken);
            }

            // The footer (schema, row groups, counts): an empty job still gets a valid file with the schema.
            var writer = await OpenAsync(cancellationToken);
            await writer.DisposeAsync();
            _completed = true;
        }

        // Without CompleteAsync the file has no footer, and the merge discards it: nothing to write.
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private void AddTop(IReadOnlyList<PredictedClass>? top)
        {
            // Definition levels of the leaves: 0 = top is null, 1 = top is an empty list, 3 = a class (2, a null
            // element, never occurs). Repetition levels: 0 starts a row, 1 continues its list.
            if (top is null or { Count: 0 })
            {
                _topRepetition.Add(0);
                _topDefinition.Add(top is null ? 0 : 1);
                return;
            }

            for (var i = 0; i < top.Count; i++)
            {
                _topRepetition.Add(i == 0 ? 0 : 1);
                _topDefinition.Add(_index.MaxDefinitionLevel);
                _topIndexes.Add(top[i].Index);
                _topNames.Add(top[i].Name.AsMemory());
                _topProbabilities.Add(top[i].Probability);
            }
        }

        private async Task WriteRowGroupAsync(CancellationToken cancellationToken)
        {
            var writer = await OpenAsync(cancellationToken);
            using (var group = writer.CreateRowGroup())
            {
                await group.WriteAsync(_path, new ReadOnlyMemory<ReadOnlyMemory<char>>(_paths, 0, _rows), cancellationToken: cancellationToken);
                await group.WriteAsync(_label, new ReadOnlyMemory<int?>(_labels, 0, _rows), cancellationToken: cancellationToken);
                await group.WriteAllPartsAsync(_index, _topIndexes.Memory, _topDefinition.Memory, _topRepetition.Memory, cancellationToken);
                await group.WriteAllPartsAsync(_name, _topNames.Memory, _topDefinition.Memory, _topRepetition.Memory, cancellationToken);
                await group.WriteAllPartsAsync(_probability, _topProbabilities.Memory, _topDefinition.Memory, _topRepetition.Memory, cancellationToken);
                await group.WriteAsync(_error, new ReadOnlyMemory<ReadOnlyMemory<char>?>(_errors, 0, _rows), cancellationToken: cancellationToken);
                await group.WriteAsync(_errorKind, new ReadOnlyMemory<ReadOnlyMemory<char>?>(_errorKinds, 0, _rows), cancellationToken: cancellationToken);
                group.CompleteValidate();
            }

            // Drop the references to the group's strings, so the records they came from can be collected.
            Array.Clear(_paths, 0, _rows);
            Array.Clear(_errors, 0, _rows);
            Array.Clear(_errorKinds, 0, _rows);
            _topNames.Clear();
            _topRepetition.Clear();
            _topDefinition.Clear();
            _topIndexes.Clear();
            _topProbabilities.Clear();
            _rows = 0;
        }

        private async ValueTask<ParquetWriter> OpenAsync(CancellationToken cancellationToken) =>
            _writer ??= await ParquetWriter.CreateAsync(_schema, _destination, Options, append: false, cancellationToken);
    }

    /// <summary>A column of a row group whose length is only known as records arrive (the leaves of <c>top</c>).</summary>
    private sealed class GrowingColumn<T>
    {
        private T[] _items = new T[1024];
        private int _count;

        public ReadOnlyMemory<T> Memory => new(_items, 0, _count);

        public void Add(T item)
        {
            if (_count == _items.Length)
            {
                Array.Resize(ref _items, _items.Length * 2);
            }

            _items[_count++] = item;
        }

        public void Clear()
        {
            Array.Clear(_items, 0, _count);
            _count = 0;
        }
    }
}
