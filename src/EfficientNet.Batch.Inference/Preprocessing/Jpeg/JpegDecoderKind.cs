namespace EfficientNet.Batch.Inference;

/// <summary>Which library decodes JPEG files (<c>Inference:JpegDecoder</c>). Every other format, and EXIF metadata, is
/// read by ImageSharp.</summary>
public enum JpegDecoderKind
{
    /// <summary>libjpeg-turbo when <see cref="TurboJpegLibrary.FileName"/> loads, else ImageSharp (with a warning logged once).</summary>
    Auto,

    /// <summary>libjpeg-turbo or fail at start: its pixels are cv2.imread's, bit for bit, and it decodes about 2x faster.</summary>
    TurboJpeg,

    /// <summary>ImageSharp's managed decoder: no native library, pixels a few levels off OpenCV's.</summary>
    ImageSharp,
}
