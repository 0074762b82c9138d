using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// The part of libjpeg-turbo's TurboJPEG API v2 (libturbojpeg.so.0, Debian's <c>libturbojpeg0</c>) that decoding uses.
/// Call nothing here unless <see cref="TurboJpegLibrary.IsAvailable"/>: the library is optional.
/// </summary>
internal static partial class TurboJpeg
{
    public const string LibraryName = "libturbojpeg.so.0";

    /// <summary>TJPF_RGB: 3 bytes per pixel, R, G, B.</summary>
    public const int PixelFormatRgb = 0;

    /// <summary>TJCS_CMYK and TJCS_YCCK: converted by ImageSharp instead (cv2 inverts Adobe CMYK; TurboJPEG cannot make RGB of it).</summary>
    public const int ColorspaceCmyk = 3;
    public const int ColorspaceYcck = 4;

    /// <summary>TJERR_WARNING: the image was decoded, but libjpeg complained (e.g. extraneous bytes before a marker).</summary>
    public const int ErrorWarning = 0;

    [LibraryImport(LibraryName, EntryPoint = "tjInitDecompress")]
    public static partial nint InitDecompress();

    [LibraryImport(LibraryName, EntryPoint = "tjDestroy")]
    public static partial int Destroy(nint handle);

    [LibraryImport(LibraryName, EntryPoint = "tjDecompressHeader3")]
    public static unsafe partial int DecompressHeader3(
        nint handle, byte* jpeg, CULong jpegSize, out int width, out int height, out int subsampling, out int colorspace);

    // flags 0: accurate integer IDCT and fancy (smooth) chroma upsampling, libjpeg's defaults and so cv2.imread's.
    [LibraryImport(LibraryName, EntryPoint = "tjDecompress2")]
    public static unsafe partial int Decompress2(
        nint handle, byte* jpeg, CULong jpegSize, byte* destination, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(LibraryName, EntryPoint = "tjGetErrorStr2")]
    public static partial nint GetErrorStr2(nint handle);

    [LibraryImport(LibraryName, EntryPoint = "tjGetErrorCode")]
    public static partial int GetErrorCode(nint handle);

    /// <summary>The handle's last error message.</summary>
    public static string ErrorMessage(nint handle) => Marshal.PtrToStringUTF8(GetErrorStr2(handle)) ?? "unknown TurboJPEG error";
}
