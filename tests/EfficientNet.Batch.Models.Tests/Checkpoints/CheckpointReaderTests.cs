using EfficientNet.Batch.Testing;
using System.IO.Compression;
using EfficientNet.Batch.Models.Checkpoints;

namespace EfficientNet.Batch.Models.Tests.Checkpoints;

public sealed class CheckpointReaderTests
{
    private const string ZipFlat = "tiny_zip_flat.pth";
    private const string ZipWrapped = "tiny_zip_wrapped.pth";
    private const string Legacy = "tiny_legacy.pth";

    private static ExpectedFixtures Expected => CheckpointFixtures.Expected;

    [Theory]
    [InlineData(ZipFlat, CheckpointFormat.Zip, null)]
    [InlineData(ZipWrapped, CheckpointFormat.Zip, "state_dict")]
    [InlineData(Legacy, CheckpointFormat.Legacy, null)]
    public void Every_float_tensor_matches_what_torch_recorded(string fixture, CheckpointFormat format, string? wrapperKey)
    {
        var checkpoint = CheckpointReader.Read(CheckpointFixtures.PathOf(fixture));

        Assert.Equal(format, checkpoint.Format);
        Assert.Equal(wrapperKey, checkpoint.WrapperKey);
        Assert.Equal(Expected.Tensors.Keys.Order(), checkpoint.StateDict.Keys.Order());
        Assert.Equal(Expected.Tensors.Count, checkpoint.TensorCount);
        foreach (var (key, expected) in Expected.Tensors)
        {
            var actual = checkpoint.StateDict[key];
            Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{key}: shape {actual.ShapeText}, torch says [{string.Join(", ", expected.Shape)}]");
            Assert.Equal(expected.Float32Values, actual.Data);
        }
    }

    [Theory]
    [InlineData(ZipFlat, "my_weights")]
    [InlineData(ZipWrapped, "epoch_3")]
    public void Zip_prefix_comes_from_the_file_stem_at_save_time(string fixture, string savedAs)
    {
        Assert.Equal(savedAs, Expected.ZipPrefixes[fixture]);

        var checkpoint = CheckpointReader.Read(CheckpointFixtures.PathOf(fixture));

        Assert.Equal(savedAs, checkpoint.ArchivePrefix);
        Assert.NotEqual("archive", checkpoint.ArchivePrefix);
        Assert.Equal("3", checkpoint.ArchiveVersion);
    }

    [Theory]
    [InlineData(ZipFlat)]
    [InlineData(Legacy)]
    public void Transposed_depthwise_view_comes_out_in_logical_row_major_order(string fixture)
    {
        const string key = "backbone.layers.1.0.depthwise_conv.conv.weight";
        var expected = Expected.Tensors[key];
        // The fixture really is the converter's non-contiguous [C,1,k,k] permute of a TF [k,k,C,1] kernel.
        Assert.Equal([1L, 1, 12, 4], expected.Stride);
        Assert.False(expected.IsContiguous);

        var weight = CheckpointReader.Read(CheckpointFixtures.PathOf(fixture)).StateDict[key];

        Assert.Equal([4, 1, 3, 3], weight.Shape);
        Assert.Equal(expected.Float32Values, weight.Data);
    }

    [Fact]
    public void Transposed_1x1_conv_and_spec_depthwise_stride_layout_are_exact()
    {
        var linear = Expected.Tensors["backbone.layers.1.0.linear_conv.conv.weight"];
        var depthwise = Expected.Tensors["backbone.layers.2.0.depthwise_conv.conv.weight"];
        Assert.False(linear.IsContiguous);
        Assert.Equal([25L, 100, 5, 1], depthwise.Stride); // (k², C·k², k, 1) from spec §4

        var stateDict = CheckpointReader.Read(CheckpointFixtures.PathOf(ZipFlat)).StateDict;

        Assert.Equal(linear.Float32Values, stateDict["backbone.layers.1.0.linear_conv.conv.weight"].Data);
        Assert.Equal(depthwise.Float32Values, stateDict["backbone.layers.2.0.depthwise_conv.conv.weight"].Data);
    }

    [Theory]
    [InlineData(ZipFlat)]
    [InlineData(Legacy)]
    public void Classifier_slice_of_a_larger_tensor_starts_at_its_storage_offset(string fixture)
    {
        var expectedWeight = Expected.Tensors["head.fc.weight"];
        var expectedBias = Expected.Tensors["head.fc.bias"];
        Assert.Equal(5, expectedWeight.StorageOffset); // row 1 of an [11, 5] tensor
        Assert.Equal(1, expectedBias.StorageOffset);

        var stateDict = CheckpointReader.Read(CheckpointFixtures.PathOf(fixture)).StateDict;

        Assert.Equal([10, 5], stateDict["head.fc.weight"].Shape);
        Assert.Equal(expectedWeight.Float32Values, stateDict["head.fc.weight"].Data);
        Assert.Equal(expectedBias.Float32Values, stateDict["head.fc.bias"].Data);
    }

    [Theory]
    [InlineData(ZipFlat)]
    [InlineData(ZipWrapped)]
    [InlineData(Legacy)]
    public void Num_batches_tracked_is_dropped_and_reported_as_skipped(string fixture)
    {
        var checkpoint = CheckpointReader.Read(CheckpointFixtures.PathOf(fixture));

        Assert.Equal(["backbone.layers.0.bn.num_batches_tracked"], Expected.SkippedKeys);
        Assert.Equal(Expected.SkippedKeys, checkpoint.SkippedKeys);
        Assert.DoesNotContain(checkpoint.StateDict.Keys, k => k.EndsWith("num_batches_tracked", StringComparison.Ordinal));
    }

    [Fact]
    public void Float64_and_float16_tensors_arrive_as_float32_and_are_reported()
    {
        var checkpoint = CheckpointReader.Read(CheckpointFixtures.PathOf(ZipFlat));

        Assert.Equal("float64", Expected.Tensors["backbone.layers.6.bn.running_mean"].SourceDtype);
        Assert.Equal("float16", Expected.Tensors["backbone.layers.6.bn.running_var"].SourceDtype);
        Assert.Equal(
            new Dictionary<string, CheckpointElementType>
            {
                ["backbone.layers.6.bn.running_mean"] = CheckpointElementType.Float64,
                ["backbone.layers.6.bn.running_var"] = CheckpointElementType.Float16,
            },
            checkpoint.ConvertedKeys);
        Assert.Equal(Expected.Tensors["backbone.layers.6.bn.running_var"].Float32Values, checkpoint.StateDict["backbone.layers.6.bn.running_var"].Data);
    }

    [Fact]
    public void Tied_weights_get_separate_arrays_so_editing_one_leaves_the_other()
    {
        var stateDict = CheckpointReader.Read(CheckpointFixtures.PathOf(ZipFlat)).StateDict;
        var weight = stateDict["backbone.layers.6.bn.weight"];
        var bias = stateDict["backbone.layers.6.bn.bias"];
        Assert.Equal(weight.Data, bias.Data);

        weight.Data[0] += 1;

        Assert.NotEqual(weight.Data[0], bias.Data[0]);
    }

    [Fact]
    public void Zero_dimensional_scalar_has_an_empty_shape_and_one_value()
    {
        var scalar = CheckpointReader.Read(CheckpointFixtures.PathOf(Legacy)).StateDict["head.logit_scale"];

        Assert.Empty(scalar.Shape);
        Assert.Equal(Expected.Tensors["head.logit_scale"].Float32Values, scalar.Data);
    }

    [Theory]
    [InlineData(ZipWrapped)]
    [InlineData(Legacy)]
    public void Forward_only_and_mid_stream_inputs_read_like_files(string fixture)
    {
        var bytes = CheckpointFixtures.Bytes(fixture);
        var fromFile = CheckpointReader.Read(CheckpointFixtures.PathOf(fixture)).StateDict;

        var fromForwardOnly = CheckpointReader.Read(new NonSeekableStream(new MemoryStream(bytes))).StateDict;
        using var padded = new MemoryStream([.. new byte[7], .. bytes]);
        padded.Position = 7;
        var fromMidStream = CheckpointReader.Read(padded).StateDict;

        foreach (var (key, tensor) in fromFile)
        {
            Assert.Equal(tensor.Data, fromForwardOnly[key].Data);
            Assert.Equal(tensor.Data, fromMidStream[key].Data);
        }
    }

    [Fact]
    public void Reading_a_stream_leaves_it_open()
    {
        using var stream = new MemoryStream(CheckpointFixtures.Bytes(Legacy));

        CheckpointReader.Read(stream);

        Assert.True(stream.CanRead);
    }

    [Theory]
    [InlineData(ZipFlat)]
    [InlineData(Legacy)]
    public void Every_truncation_is_a_checkpoint_format_error(string fixture)
    {
        var bytes = CheckpointFixtures.Bytes(fixture);
        for (var length = 0; length < bytes.Length; length += 23)
        {
            var ex = Record.Exception(() => CheckpointReader.Read(new MemoryStream(bytes[..length])));
            Assert.True(ex is CheckpointFormatException, $"{fixture} cut to {length} bytes: {ex?.GetType().Name ?? "no error"}: {ex?.Message}");
        }
    }

    [Fact]
    public void Truncated_legacy_storage_says_which_storage_and_that_the_file_is_truncated()
    {
        var bytes = CheckpointFixtures.Bytes(Legacy);

        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(new MemoryStream(bytes[..^10])));

        Assert.Contains("storage '", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("truncated", ex.Message);
    }

    [Theory]
    [InlineData(ZipFlat)]
    [InlineData(Legacy)]
    public void Overwritten_bytes_never_escape_as_anything_but_a_format_error(string fixture)
    {
        var original = CheckpointFixtures.Bytes(fixture);
        foreach (var value in new byte[] { 0x00, 0x7f, 0xff })
        {
            for (var position = 0; position < original.Length; position += 3)
            {
                var corrupt = (byte[])original.Clone();
                corrupt[position] = value;
                var ex = Record.Exception(() => CheckpointReader.Read(new MemoryStream(corrupt)));
                // Corrupt storage bytes are just different numbers; anything structural must be reported as such.
                Assert.True(ex is null or CheckpointFormatException, $"byte {position} := 0x{value:x2}: {ex?.GetType().Name}: {ex?.Message}");
            }
        }
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0x00 }, "1F8B0800")]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"' }, "neither a zip")]
    public void A_file_that_is_not_a_checkpoint_is_named_as_such(byte[] content, string expectedInMessage)
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(new MemoryStream(content)));

        Assert.Contains(expectedInMessage, ex.Message);
    }

    [Fact]
    public void Missing_storage_entry_is_named()
    {
        var zip = RewriteZip(CheckpointFixtures.Bytes(ZipFlat), (name, data) => name == "my_weights/data/3" ? null : data);

        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(new MemoryStream(zip)));

        Assert.Contains("'my_weights/data/3'", ex.Message);
    }

    [Fact]
    public void Storage_entry_shorter_than_declared_is_refused()
    {
        var zip = RewriteZip(CheckpointFixtures.Bytes(ZipFlat), (name, data) => name == "my_weights/data/0" ? data[..^4] : data);

        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(new MemoryStream(zip)));

        Assert.Contains("'my_weights/data/0' holds 428 bytes", ex.Message);
    }

    [Fact]
    public void Big_endian_byteorder_record_is_refused()
    {
        var zip = RewriteZip(CheckpointFixtures.Bytes(ZipFlat), (_, data) => data, ("my_weights/byteorder", "big"u8.ToArray()));

        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(new MemoryStream(zip)));

        Assert.Contains("big-endian", ex.Message);
    }

    [Fact]
    public void Recompressed_zip_still_reads()
    {
        // torch writes stored entries, but its reader also accepts deflated ones (e.g. after re-zipping).
        var zip = RewriteZip(CheckpointFixtures.Bytes(ZipFlat), (_, data) => data, compression: CompressionLevel.Optimal);

        var stateDict = CheckpointReader.Read(new MemoryStream(zip)).StateDict;

        Assert.Equal(Expected.Tensors["head.fc.weight"].Float32Values, stateDict["head.fc.weight"].Data);
    }

    [Fact]
    public void Int64_tensor_other_than_num_batches_tracked_is_refused_by_name()
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(CheckpointFixtures.PathOf("int64_parameter.pth")));

        Assert.Contains("'backbone.index'", ex.Message);
        Assert.Contains("Int64", ex.Message);
    }

    [Fact]
    public void Dict_that_is_not_a_state_dict_lists_its_top_level_keys()
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(CheckpointFixtures.PathOf("not_a_state_dict.pth")));

        Assert.Contains("'model', 'epoch'", ex.Message);
    }

    [Fact]
    public void Storage_budget_is_enforced_before_any_storage_is_read()
    {
        var options = new CheckpointReaderOptions { MaxTotalStorageBytes = 1000 };

        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(CheckpointFixtures.PathOf(ZipFlat), options));

        Assert.Contains("MaxTotalStorageBytes", ex.Message);
    }

    [Fact]
    public void Pickle_budget_is_enforced()
    {
        var options = new CheckpointReaderOptions { MaxPickleBytes = 500 };

        Assert.Contains("MaxPickleBytes", Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(CheckpointFixtures.PathOf(ZipFlat), options)).Message);
        Assert.Contains("MaxPickleBytes", Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(CheckpointFixtures.PathOf(Legacy), options)).Message);
    }

    /// <summary>Copies a zip entry by entry (same order), letting the test drop (null) or change entries.</summary>
    private static byte[] RewriteZip(
        byte[] zip,
        Func<string, byte[], byte[]?> rewrite,
        (string Name, byte[] Data)? extraEntry = null,
        CompressionLevel compression = CompressionLevel.NoCompression)
    {
        using var input = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entries = input.Entries.Select(e =>
            {
                using var stream = e.Open();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return (e.FullName, Data: rewrite(e.FullName, copy.ToArray()));
            }).ToList();
            if (extraEntry is { } extra)
            {
                entries.Add((extra.Name, extra.Data));
            }

            foreach (var (name, data) in entries.Where(e => e.Data is not null))
            {
                using var stream = archive.CreateEntry(name, compression).Open();
                stream.Write(data);
            }
        }

        return output.ToArray();
    }
}
