using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>The job id of a schedule's due time: a name-based UUID (version 5, RFC 9562) over
/// <c>"{scheduleId}|{dueAt UTC ticks}"</c>, so whoever creates the job for a due time, and however often, creates the
/// same one.</summary>
public static class ScheduleJobIds
{
    private static readonly Guid Namespace = new("6f1d5a2e-8d0c-4f57-9a43-2b1e7c9d0a51");

    public static Guid For(Guid scheduleId, DateTimeOffset dueAt)
    {
        Span<byte> name = stackalloc byte[16 + 64];
        Namespace.TryWriteBytes(name, bigEndian: true, out _);
        var text = string.Create(CultureInfo.InvariantCulture, $"{scheduleId:N}|{dueAt.UtcTicks}");
        var length = 16 + Encoding.UTF8.GetBytes(text, name[16..]);
        Span<byte> hash = stackalloc byte[20];
#pragma warning disable CA5350 // SHA-1 is what UUID version 5 is defined with; it names, it does not protect.
        SHA1.HashData(name[..length], hash);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
