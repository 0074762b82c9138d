using System.Globalization;
using System.Text;
using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Models;

namespace EfficientNet.Batch.Components.Tests.Evaluation;

/// <summary>Ground-truth labels from a CSV manifest or a folder per class.</summary>
public sealed class GroundTruthTests : IDisposable
{
    private static readonly string[] Fish = ["tench, Tinca tinca", "goldfish, Carassius auratus", "great_white_shark"];

    private readonly string _work = Directory.CreateTempSubdirectory("effnet-labels-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static IReadOnlyDictionary<string, int> Csv(string text, IReadOnlyList<string>? classes = null) =>
        GroundTruth.ReadCsv(new StringReader(text), classes ?? Fish, "labels.csv");

    private static string CsvError(string text, IReadOnlyList<string>? classes = null) =>
        Assert.Throws<InvalidDataException>(() => Csv(text, classes)).Message;

    [Fact]
    public void Labels_may_be_class_indices()
    {
        var labels = Csv("a.jpg,0\nsub/b.jpg,2\n");

        Assert.Equal([("a.jpg", 0), ("sub/b.jpg", 2)], labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => (l.Key, l.Value)));
    }

    [Fact]
    public void Labels_may_be_names_exact_ignoring_case_with_spaces_for_underscores_or_a_synonym()
    {
        var labels = Csv("""
            exact.jpg,"goldfish, Carassius auratus"
            case.jpg,GREAT_WHITE_SHARK
            spaces.jpg,great white shark
            synonym.jpg,carassius auratus
            first.jpg,tench
            """);

        Assert.Equal(1, labels["exact.jpg"]);
        Assert.Equal(2, labels["case.jpg"]);
        Assert.Equal(2, labels["spaces.jpg"]);
        Assert.Equal(1, labels["synonym.jpg"]);
        Assert.Equal(0, labels["first.jpg"]);
    }

    [Fact]
    public void A_header_row_is_recognised_and_skipped()
    {
        Assert.Equal(2, Csv("path,label\na.jpg,1\nb.jpg,tench\n").Count);
        Assert.Equal(1, Assert.Single(Csv("Path , Label\r\na.jpg,1\r\n")).Value);
    }

    [Fact]
    public void Quoted_paths_may_hold_commas_quotes_and_non_ascii_characters()
    {
        var file = Path.Combine(_work, "labels.csv");
        File.WriteAllText(file, "path,label\n\"dir/a,b.jpg\",0\n\"say \"\"cheese\"\".jpg\",1\n\"café/naïve ü 猫.jpg\",2\n# a comment\n\ncarpenter's_kit.jpg,0\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        var labels = GroundTruth.ReadCsv(file, Fish);

        Assert.Equal(4, labels.Count);
        Assert.Equal(0, labels["dir/a,b.jpg"]);
        Assert.Equal(1, labels["say \"cheese\".jpg"]);
        Assert.Equal(2, labels["café/naïve ü 猫.jpg"]);
        Assert.Equal(0, labels["carpenter's_kit.jpg"]);
    }

    [Fact]
    public void Paths_match_with_backslashes_and_a_leading_dot_slash()
    {
        var labels = Csv(".\\dir\\a.jpg,0\n./b.jpg,1\n");

        Assert.Equal(0, labels["dir/a.jpg"]);
        Assert.Equal(0, labels["./dir/a.jpg"]);
        Assert.Equal(1, labels["b.jpg"]);
        Assert.False(labels.ContainsKey("dir/A.jpg"));
    }

    [Fact]
    public void An_unknown_class_name_is_an_error_naming_the_line_and_the_name()
    {
        var message = CsvError("path,label\na.jpg,tench\nb.jpg,zebra\nc.jpg,0\n");

        Assert.Contains("labels.csv line 3", message, StringComparison.Ordinal);
        Assert.Contains("'zebra'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_index_out_of_range_is_an_error_naming_the_line_and_the_value()
    {
        var message = CsvError("a.jpg,0\n\nb.jpg,3\n");

        Assert.Contains("line 3", message, StringComparison.Ordinal);
        Assert.Contains("3 is out of range 0..2", message, StringComparison.Ordinal);
        Assert.Contains("-1", CsvError("a.jpg,-1\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_records_are_errors_naming_the_line()
    {
        Assert.Contains("line 2:", CsvError("a.jpg,0\ndir/b,c.jpg,1\n"), StringComparison.Ordinal); // an unquoted comma: "c.jpg" is no class
        Assert.Contains("line 1: 1 field where", CsvError("a.jpg\n"), StringComparison.Ordinal);
        Assert.Contains("line 2: the label is empty", CsvError("a.jpg,0\nb.jpg,\n"), StringComparison.Ordinal);
        Assert.Contains("line 2", CsvError("a.jpg,0\n\"b.jpg\"x,1\n"), StringComparison.Ordinal);
        Assert.Contains("line 3: 'a.jpg' is already labelled on line 1", CsvError("a.jpg,0\nb.jpg,1\n./a.jpg,0\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_shared_sample_resolves_by_index_and_the_duplicate_imagenet_names_are_ambiguous()
    {
        var samples = File.ReadLines(Path.Combine(TestData.Samples, "labels.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        var byIndex = new StringBuilder("path,label\n");
        var byName = new StringBuilder("path,label\n");
        foreach (var fields in samples)
        {
            byIndex.Append(CultureInfo.InvariantCulture, $"{fields[0]},{fields[1]}\n");
            byName.Append(CultureInfo.InvariantCulture, $"{fields[0]},{fields[3]}\n");
        }

        var labels = Csv(byIndex.ToString(), ImageNetClasses.Names);

        Assert.Equal(1000, labels.Count);
        Assert.All(samples, s => Assert.Equal(int.Parse(s[1], CultureInfo.InvariantCulture), labels[s[0]]));
        var firstCrane = samples.FindIndex(s => s[3] == "crane");
        var message = CsvError(byName.ToString(), ImageNetClasses.Names);
        Assert.Contains($"line {firstCrane + 2}", message, StringComparison.Ordinal);
        Assert.Contains("'crane' is ambiguous: classes 134, 517", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_per_class_labels_each_image_by_its_folder_name_or_index()
    {
        Touch("tench/a.jpg", "tench/deeper/b.JPEG", "1/c.png", "Great White Shark/d.webp", "tench/notes.txt", "top-level.jpg", ".cache/e.jpg");

        var labels = GroundTruth.FromClassFolders(_work, Fish);

        Assert.Equal(
            [("1/c.png", 1), ("Great White Shark/d.webp", 2), ("tench/a.jpg", 0), ("tench/deeper/b.JPEG", 0)],
            labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => (l.Key, l.Value)));
    }

    [Fact]
    public void A_class_folder_that_names_no_class_is_an_error()
    {
        Touch("tench/a.jpg", "zebra/b.jpg");

        var message = Assert.Throws<InvalidDataException>(() => GroundTruth.FromClassFolders(_work, Fish)).Message;

        Assert.Contains("class folder 'zebra'", message, StringComparison.Ordinal);
        Assert.Contains("unknown class", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_reads_a_directory_as_class_folders_and_a_file_as_a_manifest()
    {
        Touch("classes/goldfish/a.jpg");
        var manifest = Path.Combine(_work, "labels.csv");
        File.WriteAllText(manifest, "a.jpg,goldfish\n");

        Assert.Equal(1, GroundTruth.Load(Path.Combine(_work, "classes"), Fish)["goldfish/a.jpg"]);
        Assert.Equal(1, GroundTruth.Load(manifest, Fish)["a.jpg"]);
        Assert.Throws<FileNotFoundException>(() => GroundTruth.Load(Path.Combine(_work, "missing.csv"), Fish));
    }

    private void Touch(params string[] relativePaths)
    {
        foreach (var relative in relativePaths)
        {
            var file = Path.Combine(_work, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, [0xFF, 0xD8]);
        }
    }
}
