namespace EfficientNet.Batch.Components.Reports;

/// <summary>
/// The caps that keep <c>report.html</c> the same size for a thousand images or a million: every gallery is a fixed
/// number of samples, every table a fixed number of rows, every string a fixed number of characters. The page can
/// never exceed <see cref="MaxPageBytes"/>, whatever the records say (paths of 10,000 quotes, thumbnails of any size).
/// </summary>
public static class ReportLimits
{
    /// <summary>The most bytes <c>report.html</c> can have: 12 MiB. Worst case by construction (≈ 10 MiB: every tile with
    /// the largest accepted thumbnail and a maximal path of characters that encode to six bytes, every table full);
    /// a real job's page is 1–2 MiB.</summary>
    public const int MaxPageBytes = 12 * 1024 * 1024;

    /// <summary>Side of a worker's thumbnail, in pixels.</summary>
    public const int ThumbnailSize = 96;

    /// <summary>JPEG quality of a worker's thumbnail (a 96 px photo is 2–4 KB).</summary>
    public const int ThumbnailQuality = 75;

    /// <summary>Largest thumbnail shown, decoded; a larger one is rendered as the placeholder.</summary>
    public const int MaxThumbnailBytes = 12 * 1024;

    /// <summary>Classes with a gallery: the most frequent top-1 classes.</summary>
    public const int GalleryClasses = 24;

    /// <summary>Thumbnails per class gallery (a deterministic uniform sample of the class's images).</summary>
    public const int ThumbnailsPerClass = 12;

    /// <summary>Classes the sampler keeps a gallery sample for; classes first seen after this many others have none.</summary>
    public const int TrackedClasses = 4096;

    /// <summary>Images in the low-confidence gallery (lowest top-1 probability).</summary>
    public const int LowConfidence = 48;

    /// <summary>Most-confused (label, predicted) pairs shown.</summary>
    public const int ConfusedPairs = 20;

    /// <summary>Examples, with thumbnails, per confused pair (the first ones in dataset order).</summary>
    public const int ExamplesPerPair = 3;

    /// <summary>(label, predicted) pairs the sampler keeps examples for; pairs first seen after this many have none.</summary>
    public const int TrackedPairs = 5000;

    /// <summary>Error kinds listed (the most frequent); the others are summed in one line.</summary>
    public const int ErrorKinds = 20;

    /// <summary>Example paths per error kind.</summary>
    public const int ErrorExamplesPerKind = 5;

    /// <summary>Bars of the top-1 histogram (the most frequent classes); the others are summed in one bar.</summary>
    public const int HistogramBars = 30;

    /// <summary>Rows of the per-class precision/recall table (the classes with the lowest recall); the others are
    /// summarised in one row.</summary>
    public const int PerClassRows = 100;

    /// <summary>Calibration bins shown.</summary>
    public const int CalibrationBins = 50;

    /// <summary>Entries of the small lists of the summary (execution providers, device kinds, prices, failed shards).</summary>
    public const int ListEntries = 16;

    /// <summary>Characters of a path kept; a longer one keeps its start and end around an ellipsis.</summary>
    public const int MaxPathChars = 512;

    /// <summary>Characters of a class name, error kind, model or device name.</summary>
    public const int MaxNameChars = 128;

    /// <summary>Characters of an error message or another free text.</summary>
    public const int MaxTextChars = 300;
}
