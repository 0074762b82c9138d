using EfficientNet.Batch.Inference;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Prices of device time, for summary.json's <c>cost</c>: <c>Cost:PricePerHour:Cpu</c> and
/// <c>Cost:PricePerHour:Cuda</c> (configuration or environment, e.g. <c>Cost__PricePerHour__Cuda=3.2</c>), in
/// whatever currency the operator thinks in.</summary>
public sealed class CostOptions
{
    public const string SectionName = "Cost";

    public Dictionary<string, double> PricePerHour { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>A price must be for a known device kind and not negative.</summary>
public sealed class CostOptionsValidator : IValidateOptions<CostOptions>
{
    public ValidateOptionsResult Validate(string? name, CostOptions options)
    {
        var errors = new List<string>();
        foreach (var (kind, price) in options.PricePerHour)
        {
            if (!DeviceKinds.All.Contains(kind, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"Cost:PricePerHour:{kind} is not a device kind; known: {string.Join(", ", DeviceKinds.All.Select(k => char.ToUpperInvariant(k[0]) + k[1..]))}.");
            }
            else if (price < 0 || !double.IsFinite(price))
            {
                errors.Add($"Cost:PricePerHour:{kind} must be a non-negative number (was {price}).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>The kinds of device time a job is charged for, named from the ONNX Runtime execution provider a shard ran on.</summary>
public static class DeviceKinds
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";

    public static readonly IReadOnlyList<string> All = [Cpu, Cuda];

    public static string Of(string? executionProvider) => executionProvider switch
    {
        ExecutionProviderNames.Cpu or null => Cpu,
        _ when executionProvider.StartsWith("CUDA", StringComparison.OrdinalIgnoreCase) || executionProvider.StartsWith("Tensorrt", StringComparison.OrdinalIgnoreCase) => Cuda,
        _ => executionProvider.Replace("ExecutionProvider", string.Empty, StringComparison.Ordinal).ToLowerInvariant(),
    };
}
