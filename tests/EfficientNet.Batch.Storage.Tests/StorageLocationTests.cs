namespace EfficientNet.Batch.Storage.Tests;

public sealed class StorageLocationTests
{
    [Theory]
    [InlineData("az://images", "images", "")]
    [InlineData("az://images/", "images", "")]
    [InlineData("az://images/train/2024/", "images", "train/2024")]
    [InlineData("AZ://results/job-1/summary.json", "results", "job-1/summary.json")]
    public void Azure_locations_split_into_container_and_prefix(string location, string container, string prefix)
    {
        var parsed = StorageLocation.Parse(location);

        Assert.Equal(new StorageLocation(StorageScheme.Azure, container, prefix), parsed);
    }

    [Theory]
    [InlineData("az://")]
    [InlineData("az://Images/x")]
    [InlineData("az://ab")]
    [InlineData("az://bad--name")]
    [InlineData("az://images/../secrets")]
    [InlineData("s3://bucket/x")]
    [InlineData("https://account.blob.core.windows.net/c")]
    [InlineData("file://relative/path")]
    public void Malformed_or_unsupported_locations_are_rejected_with_the_accepted_forms(string location)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => StorageLocation.Parse(location));

        Assert.Contains(location, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_uris_and_plain_paths_become_absolute_file_system_paths()
    {
        Assert.Equal(new StorageLocation(StorageScheme.FileSystem, "/data/my images", ""), StorageLocation.Parse("file:///data/my images/"));
        Assert.Equal(new StorageLocation(StorageScheme.FileSystem, "/data/x", ""), StorageLocation.Parse("/data/x"));
        Assert.Equal(new StorageLocation(StorageScheme.FileSystem, "/work/sets/cats", ""), StorageLocation.Parse("sets/cats", "/work"));
        Assert.Equal(new StorageLocation(StorageScheme.FileSystem, "/work/cats", ""), StorageLocation.Parse("./sets/../cats", "/work"));
    }

    [Theory]
    [InlineData("az://results/job-1")]
    [InlineData("az://results")]
    [InlineData("file:///data/it's here")]
    public void The_canonical_form_parses_back_to_the_same_location(string location)
    {
        var parsed = StorageLocation.Parse(location);

        Assert.Equal(location, parsed.ToString());
        Assert.Equal(parsed, StorageLocation.Parse(parsed.ToString()));
    }

    [Fact]
    public void Combine_appends_a_relative_key_to_any_form()
    {
        Assert.Equal("az://results/job-1/summary.json", StorageLocation.Combine("az://results/job-1/", "summary.json"));
        Assert.Equal("az://results/shards/0001.jsonl", StorageLocation.Combine("az://results", "shards/0001.jsonl"));
        Assert.Equal("file:///out/job-1/summary.json", StorageLocation.Combine("/out/job-1", "summary.json"));
        Assert.ThrowsAny<ArgumentException>(() => StorageLocation.Combine("az://results", "../other/x"));
    }
}
