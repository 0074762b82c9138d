namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>What a caller may do. <see cref="Admin"/> implies every other scope and sees every identity's jobs.</summary>
public static class Scopes
{
    public const string JobsRead = "jobs:read";
    public const string JobsSubmit = "jobs:submit";
    public const string JobsCancel = "jobs:cancel";
    public const string SchedulesWrite = "schedules:write";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [JobsRead, JobsSubmit, JobsCancel, SchedulesWrite, Admin];
}
