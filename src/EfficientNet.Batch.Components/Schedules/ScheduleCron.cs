using Cronos;
using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>
/// A schedule's cron read in its time zone, with Cronos' documented daylight-saving behaviour: an occurrence inside a
/// skipped hour (spring forward) happens at the end of the gap, and one inside a repeated hour (fall back) happens once,
/// at its first instance (interval expressions such as <c>*/30</c> fire in both instances).
/// </summary>
public sealed class ScheduleCron
{
    public const string DefaultTimeZone = "UTC";

    private readonly CronExpression _expression;

    private ScheduleCron(CronExpression expression, TimeZoneInfo zone)
    {
        _expression = expression;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>Reads a cron of 5 fields (minute hour day month weekday) or 6 (seconds first) in a named zone. Throws
    /// <see cref="ScheduleValidationException"/> naming what is wrong.</summary>
    public static ScheduleCron Parse(string? cron, string? timeZone)
    {
        var errors = new List<string>();
        var expression = ParseExpression(cron, errors);
        var zone = ParseZone(timeZone, errors);
        return errors.Count > 0 ? throw new ScheduleValidationException(errors) : new ScheduleCron(expression!, zone!);
    }

    /// <summary>The first occurrence strictly after <paramref name="from"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset from) => _expression.GetNextOccurrence(from.ToUniversalTime(), Zone);

    /// <summary>The occurrences in (<paramref name="from"/>, <paramref name="to"/>]: how many, and the latest
    /// <paramref name="keep"/> of them, oldest first.</summary>
    public (long Count, IReadOnlyList<DateTimeOffset> Latest) Between(DateTimeOffset from, DateTimeOffset to, int keep)
    {
        if (to <= from)
        {
            return (0, []);
        }

        var latest = new Queue<DateTimeOffset>();
        long count = 0;
        foreach (var occurrence in _expression.GetOccurrences(from.ToUniversalTime(), to.ToUniversalTime(), Zone, fromInclusive: false, toInclusive: true))
        {
            count++;
            latest.Enqueue(occurrence);
            if (latest.Count > keep)
            {
                latest.Dequeue();
            }
        }

        return (count, [.. latest]);
    }

    private static CronExpression? ParseExpression(string? cron, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(cron))
        {
            errors.Add("'cron' is required: 5 fields (minute hour day month weekday) or 6 (seconds first), e.g. \"0 3 * * *\".");
            return null;
        }

        var fields = cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        var macro = fields == 1 && cron.TrimStart().StartsWith('@');
        if (fields is not (5 or 6) && !macro)
        {
            errors.Add($"'cron' {Quote.Input(cron)} has {fields} fields; it needs 5 (minute hour day month weekday) or 6 (seconds first).");
            return null;
        }

        try
        {
            return CronExpression.Parse(cron.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            errors.Add($"'cron' {Quote.Input(cron)} is not a valid cron expression: {Quote.Message(e.Message)}");
            return null;
        }
    }

    private static TimeZoneInfo? ParseZone(string? timeZone, List<string> errors)
    {
        var id = string.IsNullOrWhiteSpace(timeZone) ? DefaultTimeZone : timeZone.Trim();
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            errors.Add($"'timeZone': unknown time zone {Quote.Input(id)}; use an IANA or Windows id such as \"UTC\", \"Europe/Berlin\" or \"America/New_York\".");
            return null;
        }
    }
}

/// <summary>A schedule request that cannot be accepted, with each reason (answered 400).</summary>
public sealed class ScheduleValidationException(IReadOnlyList<string> errors)
    : Exception("The schedule request is invalid: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
