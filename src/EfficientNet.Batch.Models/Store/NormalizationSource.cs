namespace EfficientNet.Batch.Models.Store;

/// <summary>Where the normalisation of stored weights came from, recorded in the manifest. Precedence at import:
/// an explicit option, then the imported file's own metadata (ONNX only), then the catalogue.</summary>
public enum NormalizationSource
{
    /// <summary>The catalogue's, for the variant (also every manifest written before overrides existed).</summary>
    Catalogue,

    /// <summary><c>effnet models import --normalization</c> / the <c>normalization</c> argument of the import methods.</summary>
    Option,

    /// <summary>The imported ONNX file's <c>metadata_props</c> (<c>normalization</c>, or <c>mean</c>/<c>std</c>).</summary>
    FileMetadata,
}
