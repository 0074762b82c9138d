using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Inference;

/// <summary>Whether libjpeg-turbo's TurboJPEG library loads in this process; looked up once.</summary>
public static class TurboJpegLibrary
{
    private static readonly Lazy<string?> Failure = new(Probe);

    /// <summary>The shared library's file name, as Debian's <c>libturbojpeg0</c> installs it.</summary>
    public const string FileName = TurboJpeg.LibraryName;

    public static bool IsAvailable => Failure.Value is null;

    /// <summary>Why the library is not usable, or null when it is.</summary>
    public static string? LoadError => Failure.Value;

    private static string? Probe()
    {
        if (!NativeLibrary.TryLoad(FileName, typeof(TurboJpegLibrary).Assembly, null, out _))
        {
            return $"{FileName} (libjpeg-turbo's TurboJPEG, Debian package libturbojpeg0) is not installed or cannot be loaded";
        }

        try
        {
            var handle = TurboJpeg.InitDecompress();
            if (handle == 0)
            {
                return $"{FileName} loaded, but tjInitDecompress failed";
            }

            _ = TurboJpeg.Destroy(handle);
            return null;
        }
        catch (EntryPointNotFoundException exception)
        {
            return $"{FileName} lacks the TurboJPEG API v2 ({exception.Message})";
        }
    }
}
