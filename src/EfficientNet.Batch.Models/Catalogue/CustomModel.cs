using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>A model of the user's own (issue #12): a zoo architecture fine-tuned on other classes, so its head has
/// one output per name in <see cref="ClassNames"/>. It is served like a zoo model under <see cref="Name"/>; the model
/// store keeps the names next to the weights (<see cref="Catalogue.ClassNames.FileName"/>).</summary>
public sealed class CustomModel
{
    /// <summary>The flavour shown for every custom model (results metadata, summaries, <c>effnet models list</c>).</summary>
    public const string Flavour = "custom";

    private CustomModel(string name, ArchSpec architecture, IReadOnlyList<string> classNames)
    {
        Name = name;
        Architecture = architecture;
        ClassNames = classNames;
    }

    public string Name { get; }

    /// <summary>The zoo architecture with a head of <see cref="ClassNames"/>.Count outputs.</summary>
    public ArchSpec Architecture { get; }

    /// <summary>One name per head output, in output order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>How consumers see the model: flavour <see cref="Flavour"/>, the arch's default normalisation
    /// (<see cref="DefaultNormalization"/>), no seed figures and nothing to download.</summary>
    public ModelVariant Variant => new(
        Name, Architecture, Flavour, DefaultNormalization(Architecture), double.NaN, double.NaN, double.NaN, [])
    {
        IsCustom = true,
    };

    public ModelDescription Description => new(Variant, ClassNames);

    /// <exception cref="InvalidModelNameException">The name is malformed or a zoo id.</exception>
    /// <exception cref="ArgumentException">The arch is not one of the zoo's.</exception>
    /// <exception cref="ClassNamesException">Fewer than two names, a blank or a duplicate one.</exception>
    public static CustomModel Create(string name, string arch, IReadOnlyList<string> classNames)
    {
        CustomModelName.Validate(name);
        var spec = ParseArch(arch);
        // Same rules as a names file, so a list built in code cannot store what a file could not.
        var names = Catalogue.ClassNames.Parse(string.Join('\n', classNames), "class names");
        if (names.Count != classNames.Count || !names.SequenceEqual(classNames, StringComparer.Ordinal))
        {
            throw new ClassNamesException("class names must be non-blank, trimmed and on one line each.");
        }

        return new CustomModel(name, spec.WithClassCount(names.Count), names);
    }

    /// <summary>The zoo architecture named <paramref name="arch"/> (b0..b8, es, em; any case).</summary>
    /// <exception cref="ArgumentException">No zoo architecture has that name.</exception>
    public static ArchSpec ParseArch(string arch) =>
        ArchSpec.TryGet(arch?.Trim() ?? "", out var spec)
            ? spec
            : throw new ArgumentException(
                $"unknown arch '{arch}'; a custom model is one of the zoo's architectures: {string.Join(", ", ArchSpec.All.Select(a => a.Name))}.",
                nameof(arch));

    /// <summary>What a custom model is served with unless the import says otherwise: the normalisation of the arch's
    /// first zoo row, its plain ImageNet-trained weights (imagenet mean/std for b0..b7; 127.5/127.5 for b8, whose only
    /// row is AdvProp, and for the EdgeTPU es/em, spec §6).</summary>
    public static Normalization DefaultNormalization(ArchSpec architecture) =>
        ModelCatalogue.All.First(v => string.Equals(v.Arch, architecture.Name, StringComparison.Ordinal)).Normalization;
}

/// <summary>What a model id names, without its weights: the variant (arch, resolution, normalisation the catalogue or
/// the custom model's definition gives) and the names of its outputs.</summary>
/// <param name="ClassNames">ImageNet's 1000 names for a zoo model, the custom model's own otherwise.</param>
public sealed record ModelDescription(ModelVariant Variant, IReadOnlyList<string> ClassNames)
{
    /// <summary>A zoo model's description: its catalogue variant and the ImageNet class names.</summary>
    public static ModelDescription Zoo(ModelVariant variant) => new(variant, ImageNetClasses.Names);
}
