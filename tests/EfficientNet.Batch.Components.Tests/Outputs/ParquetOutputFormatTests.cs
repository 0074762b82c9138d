using System.Text.Json;
using System.Text.Json.Serialization;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Parquet.Serialization.Attributes;

namespace EfficientNet.Batch.Components.Tests.Outputs;

/// <summary>predictions.parquet: typed columns that Parquet.Net and an independent reader (hyparquet) turn back into
/// the records of predictions.jsonl, written a row group at a time.</summary>
public sealed class ParquetOutputFormatTests
{
    [Fact]
    public async Task Parquet_read_back_with_Parquet_Net_holds_every_field_of_the_jsonl_records()
    {
        var records = OutputTestRecords.Varied(500);
        var expected = await OutputTestRecords.ThroughJsonlAsync(records);
        using var folder = new TempFolder();
        var path = folder.PathOf(ParquetOutputFormat.PredictionsName);

        // 64 rows a group: eight groups, the last one partial.
        await OutputTestRecords.WriteFileAsync(new ParquetOutputFormat(rowGroupSize: 64), records, path);

        await using (var reader = await ParquetReader.CreateAsync(path))
        {
            Assert.Equal([64, 64, 64, 64, 64, 64, 64, 52], reader.RowGroups.Select(g => (int)g.RowCount));
            var fields = reader.Schema.Fields;
            Assert.Equal(["path", "label", "top", "error", "error_kind"], fields.Select(f => f.Name));
            // Parquet.Net 6 reads STRING columns as ReadOnlyMemory<char>.
            AssertColumn(fields[0], typeof(ReadOnlyMemory<char>), nullable: false);
            AssertColumn(fields[1], typeof(int), nullable: true);
            var top = Assert.IsType<ListField>(fields[2]);
            var element = Assert.IsType<StructField>(top.Item);
            Assert.Equal(["index", "name", "probability"], element.Fields.Select(f => f.Name));
            AssertColumn(element.Fields[0], typeof(int), nullable: false);
            AssertColumn(element.Fields[1], typeof(ReadOnlyMemory<char>), nullable: false);
            AssertColumn(element.Fields[2], typeof(float), nullable: false);
            AssertColumn(fields[3], typeof(ReadOnlyMemory<char>), nullable: true);
            AssertColumn(fields[4], typeof(ReadOnlyMemory<char>), nullable: true);
        }

        var rows = (await ParquetSerializer.DeserializeAsync<ParquetRow>(path)).Data;
        Assert.Equal(expected.Count, rows.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            OutputTestRecords.AssertSame(expected[i], rows[i].ToRecord(), i);
        }
    }

    [Fact]
    public async Task Parquet_read_back_by_hyparquet_holds_every_field_of_the_jsonl_records()
    {
        var records = OutputTestRecords.Varied(500);
        var expected = await OutputTestRecords.ThroughJsonlAsync(records);
        using var folder = new TempFolder();
        var path = folder.PathOf(ParquetOutputFormat.PredictionsName);

        await OutputTestRecords.WriteFileAsync(new ParquetOutputFormat(rowGroupSize: 100), records, path);

        var file = await HyparquetReader.ReadSchemaAsync(path);
        Assert.Equal(500, file.GetProperty("rows").GetInt64());
        Assert.Equal([100, 100, 100, 100, 100], file.GetProperty("rowGroups").EnumerateArray().Select(g => g.GetInt32()));
        AssertHyparquetSchema(file);

        var rows = await HyparquetReader.ReadRowsAsync(path);
        Assert.Equal(expected.Count, rows.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(["path", "label", "top", "error", "error_kind"], rows[i].EnumerateObject().Select(p => p.Name));
            OutputTestRecords.AssertSame(expected[i], FromHyparquet(rows[i]), i);
        }
    }

    [Fact]
    public async Task Parquet_row_groups_reach_the_file_while_records_stream()
    {
        var records = OutputTestRecords.Varied(250);
        using var folder = new TempFolder();
        await using var destination = new FileStream(folder.PathOf("predictions.parquet"), FileMode.CreateNew, FileAccess.ReadWrite);
        var lengths = new List<long>();

        await using (var writer = new ParquetOutputFormat(rowGroupSize: 100).Create(new OutputContext(destination, OutputTestRecords.TopK)))
        {
            foreach (var record in records)
            {
                await writer.WriteAsync(record, CancellationToken.None);
                lengths.Add(destination.Length);
            }

            await writer.CompleteAsync(OutputTestRecords.Summary, CancellationToken.None);
        }

        // Nothing is written before a group is full; each full group is written at once, not at the end.
        Assert.All(lengths.Take(99), length => Assert.Equal(0, length));
        Assert.True(lengths[99] > 0, "the first 100 records were not written when their row group filled");
        Assert.All(lengths.Skip(100).Take(99), length => Assert.Equal(lengths[99], length));
        Assert.True(lengths[199] > lengths[99], "the second row group was not written when it filled");
        Assert.All(lengths.Skip(200), length => Assert.Equal(lengths[199], length));
        Assert.True(destination.Length > lengths[199], "completing did not write the last group and the footer");

        destination.Position = 0;
        await using var reader = await ParquetReader.CreateAsync(destination, leaveStreamOpen: true);
        Assert.Equal([100, 100, 50], reader.RowGroups.Select(g => (int)g.RowCount));
    }

    [Fact]
    public async Task An_empty_job_gets_a_valid_parquet_file_with_the_schema_and_no_rows()
    {
        using var folder = new TempFolder();
        var path = folder.PathOf(ParquetOutputFormat.PredictionsName);

        await OutputTestRecords.WriteFileAsync(new ParquetOutputFormat(), [], path);

        await using (var reader = await ParquetReader.CreateAsync(path))
        {
            Assert.Equal(0, reader.RowGroupCount);
            Assert.Equal(["path", "label", "top", "error", "error_kind"], reader.Schema.Fields.Select(f => f.Name));
        }

        var file = await HyparquetReader.ReadSchemaAsync(path);
        Assert.Equal(0, file.GetProperty("rows").GetInt64());
        AssertHyparquetSchema(file);
        Assert.Empty(await HyparquetReader.ReadRowsAsync(path));
    }

    private static void AssertColumn(Field field, Type clrType, bool nullable)
    {
        var data = Assert.IsAssignableFrom<DataField>(field);
        Assert.Equal(clrType, data.ClrType);
        Assert.True(nullable == data.IsNullable, $"column {data.Name}: nullable {data.IsNullable}, expected {nullable}");
    }

    /// <summary>The schema elements as hyparquet reads them from the footer: physical types, repetition, annotations.</summary>
    private static void AssertHyparquetSchema(JsonElement file)
    {
        var elements = file.GetProperty("schema").EnumerateArray()
            .Select(e => string.Join(' ', new[] { "name", "type", "repetition", "converted", "children" }
                .Select(p => e.GetProperty(p) is { ValueKind: not JsonValueKind.Null } v ? v.ToString() : "-")))
            .ToList();
        Assert.Equal(
            """
            root - - - 5
            path BYTE_ARRAY REQUIRED UTF8 -
            label INT32 OPTIONAL INT_32 -
            top - OPTIONAL LIST 1
            list - REPEATED - 1
            element - OPTIONAL - 3
            index INT32 REQUIRED INT_32 -
            name BYTE_ARRAY REQUIRED UTF8 -
            probability FLOAT REQUIRED - -
            error BYTE_ARRAY OPTIONAL UTF8 -
            error_kind BYTE_ARRAY OPTIONAL UTF8 -
            """,
            string.Join('\n', elements));
    }

    private static PredictionRecord FromHyparquet(JsonElement row) => new()
    {
        Path = row.GetProperty("path").GetString()!,
        Label = row.GetProperty("label") is { ValueKind: JsonValueKind.Number } label ? label.GetInt32() : null,
        Top = row.GetProperty("top") is { ValueKind: JsonValueKind.Array } top
            ? [.. top.EnumerateArray().Select(c => new PredictedClass(
                c.GetProperty("index").GetInt32(),
                c.GetProperty("name").GetString()!,
                // A float widened to double prints exactly; narrowing gives the float back.
                (float)c.GetProperty("probability").GetDouble()))]
            : null,
        Error = row.GetProperty("error").GetString(),
        ErrorKind = row.GetProperty("error_kind").GetString(),
    };

    /// <summary>A row as Parquet.Net's serializer reads it back.</summary>
    private sealed class ParquetRow
    {
        [JsonPropertyName("path")]
        [ParquetRequired]
        public string Path { get; set; } = "";

        [JsonPropertyName("label")]
        public int? Label { get; set; }

        [JsonPropertyName("top")]
        public List<ParquetClass>? Top { get; set; }

        [JsonPropertyName("error")]
        public string? Error { get; set; }

        [JsonPropertyName("error_kind")]
        public string? ErrorKind { get; set; }

        public PredictionRecord ToRecord() => new()
        {
            Path = Path,
            Label = Label,
            Top = Top?.Select(c => new PredictedClass(c.Index, c.Name, c.Probability)).ToList(),
            Error = Error,
            ErrorKind = ErrorKind,
        };
    }

    private sealed class ParquetClass
    {
        [JsonPropertyName("index")]
        public int Index { get; set; }

        [JsonPropertyName("name")]
        [ParquetRequired]
        public string Name { get; set; } = "";

        [JsonPropertyName("probability")]
        public float Probability { get; set; }
    }
}
