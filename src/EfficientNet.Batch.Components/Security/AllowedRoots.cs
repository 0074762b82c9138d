using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Security;

/// <summary>Start-up checks of a list of allowed roots.</summary>
public static class AllowedRoots
{
    /// <summary>One message per entry of <paramref name="roots"/> that is not a location, naming the setting and index.</summary>
    public static IEnumerable<string> Validate(LocationRoots roots)
    {
        for (var i = 0; i < roots.Locations.Count; i++)
        {
            var location = roots.Locations[i];
            var setting = $"{roots.Setting}:{i}";
            if (string.IsNullOrWhiteSpace(location))
            {
                yield return $"{setting} is empty: give a location such as az://container/prefix or file:///absolute/path.";
                continue;
            }

            if (LocationPolicy.PercentEncoded().IsMatch(location))
            {
                yield return $"{setting} '{location}' contains a percent-encoded character: locations are taken literally; write the character itself.";
                continue;
            }

            string? problem = null;
            try
            {
                StorageLocation.Parse(location);
            }
            catch (ArgumentException e)
            {
                problem = e.Message;
            }

            if (problem is not null)
            {
                yield return $"{setting} '{location}': {problem}";
            }
        }
    }
}
