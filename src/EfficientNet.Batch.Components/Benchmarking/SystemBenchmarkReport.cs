namespace EfficientNet.Batch.Components.Benchmarking;

/// <summary>What <see cref="SystemBenchmark"/> measured for one job.</summary>
public sealed record SystemBenchmarkReport
{
    public required int Images { get; init; }

    public required int Shards { get; init; }

    public required int ShardSize { get; init; }

    /// <summary>Simulated devices, each classifying one shard at a time.</summary>
    public required int Workers { get; init; }

    public required double DeviceMilliseconds { get; init; }

    public required string Transport { get; init; }

    /// <summary>Where the job's state, manifest and outputs live.</summary>
    public required string Storage { get; init; }

    public required int Cores { get; init; }

    /// <summary>Submitted → planned: the manifest listed and the shards planned (the job's PlannedAt).</summary>
    public required double PlanSeconds { get; init; }

    /// <summary>Planned → dispatched: every shard message sent (the job's DispatchedAt).</summary>
    public required double DispatchSeconds { get; init; }

    /// <summary>The merge span: shard results merged into the job's outputs and published.</summary>
    public required double MergeSeconds { get; init; }

    /// <summary>From the first status showing every shard done to the first showing the job finished: the coordinator's
    /// read of the job's shard outcomes, the merge and the cleanup, as a caller sees them (to the status interval).
    /// Null when no status call fell between the two.</summary>
    public double? FinishSeconds { get; init; }

    /// <summary>A restarted coordinator's read of the finished job's shard outcomes, as its first status and its merge read
    /// them (<c>JobStateStore.ReadShardOutcomeTotalsAsync</c>), timed once the job is done.</summary>
    public double? OutcomesReadMs { get; init; }

    /// <summary>Submission to a finished job, as the caller waited.</summary>
    public required double TotalSeconds { get; init; }

    /// <summary>Peak resident memory of the process: the coordinator, and, on the in-memory transport, the simulated
    /// workers beside it (they hold a shard message each, and nothing else).</summary>
    public required double CoordinatorPeakRssMiB { get; init; }

    public required int StatusCalls { get; init; }

    public required double StatusP50Ms { get; init; }

    public required double StatusP90Ms { get; init; }

    public required double StatusMaxMs { get; init; }

    /// <summary>Images over the time from the plan to the start of the merge (the shards being classified).</summary>
    public required double ImagesPerSecond { get; init; }

    /// <summary>What the simulated devices allow: workers × 1000 / device ms per image (null for a zero cost).</summary>
    public double? DeviceLimitImagesPerSecond { get; init; }

    /// <summary>The resident memory sampled with each status call (every 100 ms), at its peak in each phase of the job
    /// as its status showed it: plan, dispatch, classify, merge, done.</summary>
    public IReadOnlyDictionary<string, double> PeakRssByPhaseMiB { get; init; } = new Dictionary<string, double>();

    /// <summary>Lines the merge wrote (ok + failed); equals <see cref="Images"/> for a whole job.</summary>
    public required long Lines { get; init; }
}
