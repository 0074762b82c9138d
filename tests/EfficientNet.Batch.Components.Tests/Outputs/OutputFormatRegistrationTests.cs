using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Components.Tests.Outputs;

/// <summary>Which output formats a host knows, and the one check of a requested format name.</summary>
public sealed class OutputFormatRegistrationTests
{
    [Fact]
    public void AddOutputFormats_registers_every_requestable_format_and_the_review_files_each_once()
    {
        using var services = new ServiceCollection().AddOutputFormats().BuildServiceProvider();

        var formats = services.GetServices<IOutputFormat>().ToList();
        var byName = formats.ToDictionary(f => f.Name, StringComparer.Ordinal); // throws on a duplicate name

        Assert.Equal("predictions.jsonl", byName[OutputFormats.Jsonl].FileName);
        Assert.Equal("predictions.csv", byName[OutputFormats.Csv].FileName);
        Assert.Equal("predictions.parquet", byName[OutputFormats.Parquet].FileName);
        Assert.Equal("report.html", byName[OutputFormats.Report].FileName);
        Assert.Equal(ParquetOutputFormat.DefaultRowGroupSize, Assert.IsType<ParquetOutputFormat>(byName[OutputFormats.Parquet]).RowGroupSize);
        Assert.All(OutputFormats.All, name => Assert.Contains(name, byName.Keys));
        Assert.Contains(ReviewOutputFormat.FormatName, byName.Keys);
        Assert.Contains(LabelStudioOutputFormat.FormatName, byName.Keys);
        Assert.Contains(LabelStudioConfigFormat.FormatName, byName.Keys);
        Assert.Equal(formats.Count, formats.Select(f => f.FileName).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("PARQUET")]
    [InlineData("Report")]
    [InlineData("jsonl")]
    public void A_known_format_in_any_case_has_no_problem(string name) =>
        Assert.Null(OutputRequestRules.FormatProblem(name));

    [Theory]
    [InlineData("xlsx", "unknown format 'xlsx'. Known: jsonl, csv, parquet, report.")]
    [InlineData("review", "unknown format 'review'. Known: jsonl, csv, parquet, report.")]
    [InlineData("", "unknown format ''. Known: jsonl, csv, parquet, report.")]
    [InlineData(null, "unknown format (null). Known: jsonl, csv, parquet, report.")]
    public void An_unknown_format_is_named_with_the_known_ones(string? name, string problem) =>
        Assert.Equal(problem, OutputRequestRules.FormatProblem(name));
}
