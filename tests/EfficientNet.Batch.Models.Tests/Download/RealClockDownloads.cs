namespace EfficientNet.Batch.Models.Tests.Download;

/// <summary>Download tests against <see cref="LocalHttpServer"/> with real-clock timeouts of a few hundred
/// milliseconds to a few seconds. They run on their own, after the rest of the assembly: the CPU-heavy model tests
/// running beside them kept the test process's thread pool busy enough, on a loaded 2-core CI machine, to hold the
/// server's next chunk back past a 4 s stall timeout (CI, 2026-11-30).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealClockDownloads
{
    public const string Name = "Downloads against a local server, real clock";
}
