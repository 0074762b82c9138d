namespace EfficientNet.Batch.Models.Download;

/// <summary>Why one download attempt failed.</summary>
public enum DownloadFailure
{
    /// <summary>No response: DNS, refused connection, TLS, timeout before the headers.</summary>
    Connection,

    /// <summary>The server answered with a non-success status.</summary>
    HttpStatus,

    /// <summary>The body ended early, the connection broke mid-way or no bytes came for the stall timeout
    /// (<see cref="CheckpointDownloadSettings.StallTimeout"/>). The bytes so far may be kept to resume.</summary>
    Interrupted,

    /// <summary>The file arrived but its SHA-256 does not start with the 8 hex digits in its name.</summary>
    HashMismatch,
}

/// <summary>One checkpoint URL could not be downloaded intact. Nothing of it is left on disk, except the bytes of an
/// interrupted body the server lets a later attempt resume (a partial file in the staging directory).</summary>
public sealed class CheckpointDownloadException : Exception
{
    public CheckpointDownloadException(Uri url, DownloadFailure failure, string reason, Exception? innerException = null)
        : base($"{url}: {reason}", innerException)
    {
        Url = url;
        Failure = failure;
        Reason = reason;
    }

    public Uri Url { get; }

    public DownloadFailure Failure { get; }

    public string Reason { get; }
}
