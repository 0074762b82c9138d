using System.Text.RegularExpressions;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Security;

/// <summary>What a location is asked for: read as a dataset, or written as an output.</summary>
public enum LocationUse
{
    Dataset,
    Output,
}

/// <summary>The rule a refused location broke.</summary>
public enum LocationRule
{
    /// <summary>Not a location at all (bad container name, unsupported scheme, …).</summary>
    Malformed,

    /// <summary>Holds a percent-encoded character: locations are taken literally, so "%2e%2e" is never "..".</summary>
    PercentEncoded,

    /// <summary>A local path, while the setting lists no roots: local paths are accepted only under listed roots.</summary>
    LocalPathWithoutPolicy,

    /// <summary>Outside every root the setting lists.</summary>
    OutsideAllowedRoots,

    /// <summary>Equal to, under or above a location reserved for the service itself (the coordinator's state).</summary>
    Reserved,

    /// <summary>Its symbolic links cannot be followed (they loop).</summary>
    Unresolvable,
}

/// <summary>Why a location was refused.</summary>
/// <param name="ViaLink">For <see cref="LocationRule.Reserved"/>: the overlap shows only once symbolic links are followed.</param>
public sealed record LocationRefusal(LocationRule Rule, string Message, bool ViaLink = false);

/// <summary>The roots a setting allows, with the setting's name for messages (e.g. <c>Coordinator:AllowedDatasets</c>).</summary>
public sealed record LocationRoots(string Setting, IReadOnlyList<string> Locations);

/// <summary>A location taken from configuration, with the setting that gave it.</summary>
public sealed record ConfiguredLocation(string Setting, string Location);

/// <summary>
/// Decides where jobs may read datasets and write outputs. A location is allowed when, after resolution, it lies under
/// one of the allowed roots (or, for an output, under a trusted output location such as the default
/// <c>Coordinator:OutputLocation</c>) and does not overlap a reserved location (the coordinator's state).
/// </summary>
/// <remarks>
/// <para>Locations are compared in canonical form: a local path is made absolute (relative paths against the current
/// directory), its ".." segments applied, and every symbolic link among its existing components followed, for the
/// candidate and for the roots alike; <c>file:///x</c> and <c>/x</c> are the same location. A path is under a root
/// only on a component boundary (<c>/data2</c> is not under <c>/data</c>), compared case-sensitively on Linux.
/// An Azure location is under a root when the container is the same and the prefix equal to or below the root's on a
/// '/' boundary.</para>
/// <para>An empty list of roots allows every <c>az://</c> location and no local path, so a server that was given no
/// policy cannot be made to read or write its own disk.</para>
/// <para>Percent-encoded characters are refused outright: locations are never decoded, so an encoded ".." or "/" would
/// be a literal name on one store and a traversal on a tool that decodes it.</para>
/// </remarks>
public sealed partial class LocationPolicy
{
    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly RootSet _datasets;
    private readonly RootSet _outputs;
    private readonly IReadOnlyList<(ConfiguredLocation Setting, StorageLocation Location)> _trustedOutputs;
    private readonly IReadOnlyList<(ConfiguredLocation Setting, StorageLocation Location)> _reserved;

    /// <param name="datasets">Roots datasets may be read from.</param>
    /// <param name="outputs">Roots outputs may be written to.</param>
    /// <param name="trustedOutputs">Locations configured by the operator under which outputs are always allowed.</param>
    /// <param name="reserved">Locations that are never a dataset or an output, nor anything under or above them.</param>
    /// <exception cref="ArgumentException">A root or location does not parse; the message names its setting.</exception>
    public LocationPolicy(
        LocationRoots datasets,
        LocationRoots outputs,
        IReadOnlyList<ConfiguredLocation> trustedOutputs,
        IReadOnlyList<ConfiguredLocation> reserved)
    {
        _datasets = new RootSet(datasets);
        _outputs = new RootSet(outputs);
        _trustedOutputs = [.. trustedOutputs.Where(l => !string.IsNullOrWhiteSpace(l.Location)).Select(l => (l, ParseSetting(l.Setting, l.Location)))];
        _reserved = [.. reserved.Where(l => !string.IsNullOrWhiteSpace(l.Location)).Select(l => (l, ParseSetting(l.Setting, l.Location)))];
    }

    /// <summary>The policy of a coordinator: its allowed lists, its default output location trusted, its state reserved.</summary>
    public static LocationPolicy ForCoordinator(CoordinatorOptions options) => new(
        new LocationRoots(Setting(nameof(CoordinatorOptions.AllowedDatasets)), options.AllowedDatasets),
        new LocationRoots(Setting(nameof(CoordinatorOptions.AllowedOutputs)), options.AllowedOutputs),
        [new ConfiguredLocation(Setting(nameof(CoordinatorOptions.OutputLocation)), options.OutputLocation)],
        [new ConfiguredLocation(Setting(nameof(CoordinatorOptions.StateLocation)), options.StateLocation)]);

    /// <summary>Null when <paramref name="location"/> may be used as <paramref name="use"/>, else why not.</summary>
    public LocationRefusal? Check(LocationUse use, string location) => Check(use, location, Label(use));

    /// <summary>
    /// Checks the images of a dataset whose items are <paramref name="keys"/> under <paramref name="datasetRoot"/> (a
    /// location already allowed): each key must be a relative key, and on the local file system it must not lead
    /// outside the allowed dataset roots through a symbolic link. Returns the first refusal, or null.
    /// </summary>
    public LocationRefusal? CheckDatasetItems(string datasetRoot, IEnumerable<string> keys)
    {
        var root = StorageLocation.Parse(datasetRoot);
        string? realRoot = null;
        List<Canonical>? roots = null;
        List<(ConfiguredLocation Setting, Canonical Location)>? reserved = null;
        foreach (var key in keys)
        {
            try
            {
                BlobKey.Validate(key, "image");
            }
            catch (ArgumentException e)
            {
                return new LocationRefusal(LocationRule.Malformed, $"'dataset' image {Quote.Input(key)} is not a key inside the dataset: {Quote.Message(e.Message)}");
            }

            if (root.Scheme != StorageScheme.FileSystem)
            {
                continue;
            }

            try
            {
                realRoot ??= RealPath.Of(root.Container);
                roots ??= [.. _datasets.Roots.Select(Canonicalize)];
                reserved ??= [.. _reserved.Select(r => (r.Setting, Canonicalize(r.Location)))];
                var real = RealPath.Below(realRoot, key);
                var image = new Canonical(StorageScheme.FileSystem, real, "", Path.Join(root.Container, key));
                var label = $"'dataset' image {Quote.Input(key)}";
                if (FindReserved(image, reserved, label, "dataset") is { } clash)
                {
                    return clash;
                }

                if (roots.Count > 0 && !roots.Any(r => Contains(r, image)))
                {
                    return new LocationRefusal(LocationRule.OutsideAllowedRoots, $"{label} {Resolved(image)}is outside {_datasets.Describe()}.");
                }
            }
            catch (IOException e)
            {
                return new LocationRefusal(LocationRule.Unresolvable, $"'dataset' image {Quote.Input(key)} cannot be resolved: {Quote.Message(e.Message)}");
            }
        }

        return null;
    }

    private LocationRefusal? Check(LocationUse use, string location, string label)
    {
        ArgumentNullException.ThrowIfNull(location);
        var quoted = $"{label} {Quote.Input(location)}";
        if (PercentEncoded().Match(location) is { Success: true } encoded)
        {
            return new LocationRefusal(LocationRule.PercentEncoded,
                $"{quoted} contains a percent-encoded character ('{encoded.Value}'): locations are taken literally, never decoded; write the character itself.");
        }

        StorageLocation parsed;
        Canonical candidate;
        try
        {
            parsed = StorageLocation.Parse(location);
            candidate = Canonicalize(parsed);
        }
        catch (ArgumentException e)
        {
            return new LocationRefusal(LocationRule.Malformed, $"{quoted}: {Quote.Message(e.Message)}");
        }
        catch (IOException e)
        {
            return new LocationRefusal(LocationRule.Unresolvable, $"{quoted} cannot be resolved: {Quote.Message(e.Message)}");
        }

        try
        {
            if (FindReserved(candidate, [.. _reserved.Select(r => (r.Setting, Canonicalize(r.Location)))], quoted, label.Trim('\'')) is { } clash)
            {
                return clash;
            }

            if (use == LocationUse.Output && _trustedOutputs.Any(t => Contains(Canonicalize(t.Location), candidate)))
            {
                return null;
            }

            var set = use == LocationUse.Dataset ? _datasets : _outputs;
            if (set.Roots.Count == 0)
            {
                return candidate.Scheme == StorageScheme.Azure
                    ? null
                    : new LocationRefusal(LocationRule.LocalPathWithoutPolicy,
                        $"{quoted} is a local path, and {set.Setting} lists no roots: local paths are accepted only under a root listed there.");
            }

            return set.Roots.Any(r => Contains(Canonicalize(r), candidate))
                ? null
                : new LocationRefusal(LocationRule.OutsideAllowedRoots, $"{quoted} {Resolved(candidate)}is outside {set.Describe()}.");
        }
        catch (IOException e)
        {
            return new LocationRefusal(LocationRule.Unresolvable, $"{quoted} cannot be resolved against the policy: {Quote.Message(e.Message)}");
        }
    }

    private static LocationRefusal? FindReserved(
        Canonical candidate, IEnumerable<(ConfiguredLocation Setting, Canonical Location)> reserved, string quoted, string field)
    {
        foreach (var (setting, location) in reserved)
        {
            if (Contains(location, candidate) || Contains(candidate, location))
            {
                var viaLink = !LexicallyOverlap(location, candidate);
                return new LocationRefusal(LocationRule.Reserved,
                    $"{quoted} {(viaLink ? Resolved(candidate) : "")}overlaps the coordinator's state location ({setting.Setting}); choose another {field}.",
                    viaLink);
            }
        }

        return null;
    }

    private static string Label(LocationUse use) => use == LocationUse.Dataset ? "'dataset'" : "'output'";

    private static string Setting(string name) => $"{CoordinatorOptions.SectionName}:{name}";

    private static StorageLocation ParseSetting(string setting, string location)
    {
        try
        {
            return StorageLocation.Parse(location);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{setting} '{location}': {e.Message}", nameof(location), e);
        }
    }

    /// <summary>Mentions the resolved form when it differs from what the user wrote (a link was followed).</summary>
    private static string Resolved(Canonical location) =>
        string.Equals(location.Container, location.Lexical, PathComparison) || location.Scheme == StorageScheme.Azure
            ? ""
            : $"(resolved: {location.Describe()}) ";

    private static Canonical Canonicalize(StorageLocation location) => location.Scheme == StorageScheme.Azure
        ? new Canonical(StorageScheme.Azure, location.Container, location.Prefix, location.Container)
        : new Canonical(StorageScheme.FileSystem, RealPath.Of(location.Container), "", location.Container);

    /// <summary><paramref name="inner"/> equals <paramref name="outer"/> or lies below it.</summary>
    private static bool Contains(Canonical outer, Canonical inner)
    {
        if (outer.Scheme != inner.Scheme)
        {
            return false;
        }

        if (outer.Scheme == StorageScheme.Azure)
        {
            return string.Equals(outer.Container, inner.Container, StringComparison.Ordinal) && IsUnder(inner.Prefix, outer.Prefix, '/', StringComparison.Ordinal);
        }

        return IsUnder(inner.Container, outer.Container, Path.DirectorySeparatorChar, PathComparison);
    }

    private static bool LexicallyOverlap(Canonical a, Canonical b) =>
        a.Scheme == StorageScheme.Azure
        || IsUnder(a.Lexical, b.Lexical, Path.DirectorySeparatorChar, PathComparison)
        || IsUnder(b.Lexical, a.Lexical, Path.DirectorySeparatorChar, PathComparison);

    private static bool IsUnder(string path, string root, char separator, StringComparison comparison)
    {
        if (root.Length == 0 || string.Equals(path, root, comparison))
        {
            return true;
        }

        // "/" (or "C:\") ends with the separator already.
        var boundary = root[^1] == separator ? root : root + separator;
        return path.StartsWith(boundary, comparison);
    }

    [GeneratedRegex("%[0-9A-Fa-f]{2}")]
    internal static partial Regex PercentEncoded();

    /// <summary>A location reduced to what can be compared: for the file system the real path in <see cref="Container"/>
    /// (and the path as written in <see cref="Lexical"/>), for Azure the container and prefix.</summary>
    private sealed record Canonical(StorageScheme Scheme, string Container, string Prefix, string Lexical)
    {
        public string Describe() => new StorageLocation(Scheme, Container, Prefix).ToString();
    }

    private sealed class RootSet
    {
        public RootSet(LocationRoots roots)
        {
            Setting = roots.Setting;
            Written = [.. roots.Locations.Where(l => !string.IsNullOrWhiteSpace(l))];
            Roots = [.. Written.Select(l => ParseSetting(roots.Setting, l))];
        }

        public string Setting { get; }

        public IReadOnlyList<string> Written { get; }

        public IReadOnlyList<StorageLocation> Roots { get; }

        public string Describe() => $"{Setting} ({string.Join(", ", Written)})";
    }
}
