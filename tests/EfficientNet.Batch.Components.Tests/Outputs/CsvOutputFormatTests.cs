using System.Globalization;
using System.Text;
using CsvHelper;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;

namespace EfficientNet.Batch.Components.Tests.Outputs;

/// <summary>predictions.csv: RFC 4180 text that a CSV reader turns back into the records of predictions.jsonl.</summary>
public sealed class CsvOutputFormatTests
{
    [Fact]
    public async Task Csv_read_back_with_CsvHelper_holds_every_field_of_the_jsonl_records()
    {
        var records = OutputTestRecords.Varied(500);
        var expected = await OutputTestRecords.ThroughJsonlAsync(records);
        using var folder = new TempFolder();
        var path = folder.PathOf(CsvOutputFormat.PredictionsName);

        await OutputTestRecords.WriteFileAsync(new CsvOutputFormat(), records, path);
        var (header, read) = await ReadAsync(path, OutputTestRecords.TopK);

        Assert.Equal(CsvOutputFormat.Columns(OutputTestRecords.TopK), header);
        Assert.Equal(expected.Count, read.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            OutputTestRecords.AssertSame(expected[i], read[i], i, topNullReadsAsEmpty: true);
        }

        // What only shard results carry stays out of the file.
        var text = await File.ReadAllTextAsync(path);
        Assert.DoesNotContain("etag-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("/9j/4AAQ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csv_quotes_awkward_fields_the_rfc_4180_way_with_crlf_and_round_trip_probabilities()
    {
        PredictionRecord[] records =
        [
            new() { Path = "a,b.jpg", Label = 7, Top = [new(3, "say \"hi\"", 0.1f), new(12, "two\nlines", 1f / 3)] },
            new() { Path = " leading space.jpg", Top = [new(0, "tench, Tinca tinca", float.Epsilon)] },
            PredictionRecord.Failure("猫\t.png", 2, "corrupt", "bad marker"),
        ];
        using var folder = new TempFolder();
        var path = folder.PathOf(CsvOutputFormat.PredictionsName);

        await OutputTestRecords.WriteFileAsync(new CsvOutputFormat(), records, path, topK: 2);

        var bytes = await File.ReadAllBytesAsync(path);
        Assert.False(bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble), "predictions.csv starts with a byte order mark");
        Assert.Equal(
            "path,label,top1_index,top1_name,top1_probability,top2_index,top2_name,top2_probability,error,error_kind\r\n" +
            "\"a,b.jpg\",7,3,\"say \"\"hi\"\"\",0.1,12,\"two\nlines\",0.33333334,,\r\n" +
            "\" leading space.jpg\",,0,\"tench, Tinca tinca\",1E-45,,,,,\r\n" +
            "猫\t.png,2,,,,,,,bad marker,corrupt\r\n",
            Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public async Task An_empty_job_gets_a_csv_with_only_its_header()
    {
        using var folder = new TempFolder();
        var path = folder.PathOf(CsvOutputFormat.PredictionsName);

        await OutputTestRecords.WriteFileAsync(new CsvOutputFormat(), [], path, topK: 1);

        Assert.Equal("path,label,top1_index,top1_name,top1_probability,error,error_kind\r\n", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_record_with_more_classes_than_top_k_keeps_its_best_k_in_the_csv()
    {
        PredictionRecord[] records = [new() { Path = "x.jpg", Top = [new(1, "one", 0.7f), new(2, "two", 0.2f), new(3, "three", 0.1f)] }];
        using var folder = new TempFolder();
        var path = folder.PathOf(CsvOutputFormat.PredictionsName);

        await OutputTestRecords.WriteFileAsync(new CsvOutputFormat(), records, path, topK: 2);
        var (_, read) = await ReadAsync(path, topK: 2);

        OutputTestRecords.AssertSame(records[0] with { Top = records[0].Top!.Take(2).ToList() }, Assert.Single(read), 0);
    }

    /// <summary>Reads predictions.csv with CsvHelper, by column name, into records.</summary>
    private static async Task<(IReadOnlyList<string> Header, List<PredictionRecord> Records)> ReadAsync(string path, int topK)
    {
        var options = CsvReaderOptions.Default with { Separator = ',', TrimWhitespace = false, DetectSeparatorHint = false };
        await using var stream = File.OpenRead(path);
        using var csv = CsvReader.Create(stream, options, leaveOpen: false);
        await csv.ReadHeaderAsync(CancellationToken.None);
        var header = csv.Headers.ToList();
        var records = new List<PredictionRecord>();
        while (await csv.ReadAsync(CancellationToken.None))
        {
            Assert.Equal(header.Count, csv.FieldCount);
            var top = new List<PredictedClass>();
            for (var k = 1; k <= topK; k++)
            {
                var index = csv.GetString($"top{k}_index");
                if (index.Length == 0)
                {
                    Assert.Equal("", csv.GetString($"top{k}_name"));
                    Assert.Equal("", csv.GetString($"top{k}_probability"));
                    continue;
                }

                top.Add(new PredictedClass(
                    int.Parse(index, CultureInfo.InvariantCulture),
                    csv.GetString($"top{k}_name"),
                    float.Parse(csv.GetString($"top{k}_probability"), CultureInfo.InvariantCulture)));
            }

            var label = csv.GetString("label");
            records.Add(new PredictionRecord
            {
                Path = csv.GetString("path"),
                Label = label.Length == 0 ? null : int.Parse(label, CultureInfo.InvariantCulture),
                Top = top,
                Error = NullIfEmpty(csv.GetString("error")),
                ErrorKind = NullIfEmpty(csv.GetString("error_kind")),
            });
        }

        return (header, records);
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
