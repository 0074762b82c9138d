using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Inference;

/// <summary>Stops a host at start when <c>Inference:JpegDecoder</c> demands libjpeg-turbo and the library does not load.</summary>
internal sealed class JpegDecoderOptionsValidator : IValidateOptions<InferenceOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceOptions options) =>
        options.JpegDecoder == JpegDecoderKind.TurboJpeg && !TurboJpegLibrary.IsAvailable
            ? ValidateOptionsResult.Fail(
                $"{InferenceOptions.SectionName}:{nameof(InferenceOptions.JpegDecoder)} is {JpegDecoderKind.TurboJpeg}, but {TurboJpegLibrary.LoadError}. Install it or choose {JpegDecoderKind.Auto}.")
            : ValidateOptionsResult.Success;
}
