using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Components.Tests.Outputs;

/// <summary>Which output formats a host knows, and how a job's <c>outputs</c> list is checked against them.</summary>
public sealed class OutputFormatCatalogTests
{
    [Fact]
    public void AddOutputFormats_registers_jsonl_csv_and_parquet_each_once_with_their_files()
    {
        using var services = new ServiceCollection().AddOutputFormats().BuildServiceProvider();

        var formats = services.GetServices<IOutputFormat>().ToList();
        var byName = formats.ToDictionary(f => f.Name, StringComparer.Ordinal); // throws on a duplicate name

        Assert.Equal("predictions.jsonl", byName[OutputFormats.Jsonl].FileName);
        Assert.Equal("predictions.csv", byName[OutputFormats.Csv].FileName);
        Assert.Equal("predictions.parquet", byName[OutputFormats.Parquet].FileName);
        Assert.Equal(ParquetOutputFormat.DefaultRowGroupSize, Assert.IsType<ParquetOutputFormat>(byName[OutputFormats.Parquet]).RowGroupSize);
        Assert.Equal(formats.Count, formats.Select(f => f.FileName).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(
            [OutputFormats.Jsonl, OutputFormats.Csv, OutputFormats.Parquet],
            services.GetRequiredService<OutputFormatCatalog>().Names.Where(n => n != OutputFormats.Report));
    }

    [Fact]
    public void An_unknown_output_format_is_refused_with_the_known_ones()
    {
        var catalog = new OutputFormatCatalog([new JsonlOutputFormat(), new CsvOutputFormat(), new ParquetOutputFormat()]);

        Assert.False(catalog.TryResolve(["csv", "xls"], out var formats, out var error));
        Assert.Null(formats);
        Assert.Equal("unknown output format 'xls'; known: jsonl, csv, parquet", error);
        var thrown = Assert.Throws<ArgumentException>(() => catalog.Resolve(["parquet", "report"]));
        Assert.StartsWith("unknown output format 'report'; known: jsonl, csv, parquet", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Asked_output_formats_resolve_once_each_ignoring_case_and_nothing_asked_means_jsonl()
    {
        var catalog = new OutputFormatCatalog([new ParquetOutputFormat(), new CsvOutputFormat(), new JsonlOutputFormat()]);

        Assert.Equal(["csv", "parquet"], catalog.Resolve(["PARQUET", "csv", "Csv"]).Select(f => f.Name));
        Assert.Equal(["jsonl"], catalog.Resolve(null).Select(f => f.Name));
        Assert.Equal(["jsonl"], catalog.Resolve([]).Select(f => f.Name));
        Assert.Equal(["jsonl", "csv", "parquet"], catalog.Names);
    }
}
