namespace EfficientNet.Batch.Storage.Tests;

public sealed class ManifestParserTests
{
    [Fact]
    public async Task Paths_labels_comments_blank_lines_and_a_header_are_read_in_file_order()
    {
        var entries = await ParseAsync("""
            path,label
            # comment

            b/2.jpg, 7
            ./a/1.jpg,
              "with, comma.jpg",3
            "say ""hi"".png",0
            it's.jpg
            c.jpg,1,extra
            """);

        Assert.Equal(
            [
                new ManifestEntry("b/2.jpg", 7, 4),
                new ManifestEntry("a/1.jpg", null, 5),
                new ManifestEntry("with, comma.jpg", 3, 6),
                new ManifestEntry("say \"hi\".png", 0, 7),
                new ManifestEntry("it's.jpg", null, 8),
                new ManifestEntry("c.jpg", 1, 9),
            ],
            entries);
    }

    [Fact]
    public async Task A_first_line_with_an_integer_label_is_data_not_a_header()
    {
        var entries = await ParseAsync("x.jpg,5\ny.jpg,6\n");

        Assert.Equal([5, 6], entries.Select(e => e.Label));
    }

    [Fact]
    public async Task A_first_line_labelled_with_a_name_is_data_not_a_header()
    {
        var entries = await ParseAsync("img.jpg,tench\nb.jpg,great white shark\n\"c.jpg\",\"crane\"\nd.jpg,-1\n");

        Assert.Equal(
            [
                new ManifestEntry("img.jpg", null, 1, "tench"),
                new ManifestEntry("b.jpg", null, 2, "great white shark"),
                new ManifestEntry("c.jpg", null, 3, "crane"),
                new ManifestEntry("d.jpg", null, 4, "-1"),
            ],
            entries);
    }

    [Theory]
    [InlineData("file,class_index,wnid,class_name\nn01440764_tench.JPEG,0,n01440764,tench\n")]
    [InlineData("Path,Label\nn01440764_tench.JPEG,0\n")]
    [InlineData("filename\nn01440764_tench.JPEG,0\n")]
    public async Task A_header_is_recognised_by_its_first_column_name(string text)
    {
        var entry = Assert.Single(await ParseAsync(text));

        Assert.Equal(new ManifestEntry("n01440764_tench.JPEG", 0, 2), entry);
    }

    [Theory]
    [InlineData("../outside.jpg\n", "line 1")]
    [InlineData("/abs/olute.jpg\n", "line 1")]
    [InlineData("ok.jpg\n\"unclosed.jpg,1\n", "line 2")]
    [InlineData(",3\n", "line 1")]
    public async Task Malformed_lines_fail_naming_the_manifest_and_line(string text, string where)
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ParseAsync(text));

        Assert.Contains("'list.csv'", error.Message, StringComparison.Ordinal);
        Assert.Contains(where, error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<ManifestEntry>> ParseAsync(string text)
    {
        var entries = new List<ManifestEntry>();
        await foreach (var entry in ManifestParser.ReadAsync(new StringReader(text), "list.csv", CancellationToken.None))
        {
            entries.Add(entry);
        }

        return entries;
    }
}
