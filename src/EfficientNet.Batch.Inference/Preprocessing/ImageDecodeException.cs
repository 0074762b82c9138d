namespace EfficientNet.Batch.Inference;

/// <summary>Why an encoded image could not become a tensor. Values are stable: they end up in result records and metrics.</summary>
public static class ImageDecodeErrorKind
{
    /// <summary>Zero bytes.</summary>
    public const string Empty = "empty";

    /// <summary>Not a format the decoder recognises (text, HTML error pages, unknown formats).</summary>
    public const string UnknownFormat = "unknown-format";

    /// <summary>Recognised format, damaged content (truncated, bad headers, decoder errors).</summary>
    public const string Corrupt = "corrupt";

    /// <summary>Declared dimensions above the pixel limit (decompression bombs); rejected before decoding.</summary>
    public const string TooLarge = "too-large";

    /// <summary>The content is an image of another format than the file name's extension says (a renamed file).</summary>
    public const string ExtensionMismatch = "extension-mismatch";

    /// <summary>Valid file using a feature the decoder does not implement.</summary>
    public const string Unsupported = "unsupported";
}

/// <summary>An encoded image could not be decoded; <see cref="Kind"/> is one of <see cref="ImageDecodeErrorKind"/>.</summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(string kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>One of the <see cref="ImageDecodeErrorKind"/> constants.</summary>
    public string Kind { get; }
}
