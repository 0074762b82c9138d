namespace EfficientNet.Batch.Models.Download;

/// <summary>How patient a checkpoint download is. There is no deadline for the whole file: a 350 MB b8 checkpoint on a
/// slow link takes as long as it takes while bytes keep arriving; a link that goes quiet fails the attempt, which is then
/// resumed from the bytes already on disk.</summary>
public sealed record CheckpointDownloadSettings
{
    /// <summary>What <see cref="ModelPuller.Create"/> uses, so every command pulls with the same patience.</summary>
    public static CheckpointDownloadSettings Default { get; } = new();

    /// <summary>Longest wait to connect, send the request and receive the response headers, per attempt.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest wait for the next bytes of the body; a longer silence fails the attempt as interrupted.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Times one URL is resumed within one pull before it counts as failed (a later pull resumes it again).</summary>
    public int Resumes { get; init; } = 3;

    /// <summary>Pause before each resume, giving a dropped link a moment to come back.</summary>
    public TimeSpan ResumeDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <exception cref="ArgumentOutOfRangeException">A timeout is not positive, or a count or delay is negative.</exception>
    internal CheckpointDownloadSettings Validated()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ResponseTimeout, TimeSpan.Zero, nameof(ResponseTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StallTimeout, TimeSpan.Zero, nameof(StallTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(Resumes, nameof(Resumes));
        ArgumentOutOfRangeException.ThrowIfLessThan(ResumeDelay, TimeSpan.Zero, nameof(ResumeDelay));
        return this;
    }
}
