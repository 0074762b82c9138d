namespace EfficientNet.Batch.Inference.Tests.Jpeg;

/// <summary>The EXIF orientation the libjpeg-turbo path reads itself (the fixture tests check it against OpenCV on real
/// and synthetic files; these cover byte orders and damaged segments).</summary>
public sealed class JpegExifOrientationTests
{
    [Theory]
    [InlineData(true, 6)]
    [InlineData(false, 8)]
    [InlineData(true, 1)]
    public void Reads_the_orientation_tag_of_IFD0_in_either_byte_order(bool littleEndian, int orientation) =>
        Assert.Equal(orientation, JpegExifOrientation.Read(Jpeg(Exif(littleEndian, orientation))));

    [Fact]
    public void The_tag_after_other_segments_and_other_tags_is_found()
    {
        var app0 = Segment(0xE0, "JFIF\0\u0001\u0001\0\0\u0001\0\u0001\0\0"u8.ToArray());
        var exif = Exif(littleEndian: true, orientation: 3, tagsBefore: 2);

        Assert.Equal(3, JpegExifOrientation.Read(Jpeg([.. app0, .. exif])));
    }

    [Theory]
    [InlineData("no exif")]
    [InlineData("cut segment")]
    [InlineData("bad byte order")]
    [InlineData("out of range")]
    [InlineData("not a jpeg")]
    [InlineData("ifd past the end")]
    public void Anything_missing_or_malformed_reads_as_upright(string damage)
    {
        var exif = Exif(littleEndian: true, orientation: 6);
        byte[] file = damage switch
        {
            "no exif" => Jpeg(Segment(0xE0, new byte[14])),
            "cut segment" => Jpeg(exif)[..20],
            "bad byte order" => Jpeg(Replace(exif, 10, "XX"u8.ToArray())),
            "out of range" => Jpeg(Exif(littleEndian: true, orientation: 9)),
            "not a jpeg" => [0x89, 0x50, 0x4E, 0x47, .. exif],
            "ifd past the end" => Jpeg(Replace(exif, 14, [0xFF, 0xFF, 0, 0])),
            _ => throw new ArgumentOutOfRangeException(nameof(damage)),
        };

        Assert.Equal(1, JpegExifOrientation.Read(file));
    }

    private static byte[] Jpeg(byte[] segments) => [0xFF, 0xD8, .. segments, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9];

    private static byte[] Segment(byte marker, byte[] payload) =>
        [0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];

    private static byte[] Replace(byte[] bytes, int at, byte[] with)
    {
        var copy = bytes.ToArray();
        with.CopyTo(copy, at);
        return copy;
    }

    // APP1: "Exif\0\0", a TIFF header, IFD0 with tagsBefore other SHORT tags, then Orientation (0x0112, SHORT, 1).
    private static byte[] Exif(bool littleEndian, int orientation, int tagsBefore = 0)
    {
        var tiff = new List<byte>();
        void U16(int v) => tiff.AddRange(littleEndian ? [(byte)v, (byte)(v >> 8)] : [(byte)(v >> 8), (byte)v]);
        void U32(int v) => tiff.AddRange(littleEndian
            ? [(byte)v, (byte)(v >> 8), (byte)(v >> 16), (byte)(v >> 24)]
            : [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        tiff.AddRange(littleEndian ? "II"u8.ToArray() : "MM"u8.ToArray());
        U16(42);
        U32(8);
        U16(tagsBefore + 1);
        for (var i = 0; i < tagsBefore; i++)
        {
            U16(0x0100 + i);
            U16(3);
            U32(1);
            U16(640);
            U16(0);
        }

        U16(0x0112);
        U16(3);
        U32(1);
        U16(orientation);
        U16(0);
        U32(0);
        return Segment(0xE1, [.. "Exif\0\0"u8.ToArray(), .. tiff]);
    }
}
