using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Components.Outputs;

public static class OutputFormatRegistration
{
    /// <summary>Every file format a job can write (<see cref="IOutputFormat"/>), and the review queue's files.</summary>
    public static IServiceCollection AddOutputFormats(this IServiceCollection services)
    {
        services.AddSingleton<IOutputFormat, JsonlOutputFormat>();
        services.AddSingleton<IOutputFormat, CsvOutputFormat>();
        services.AddSingleton<IOutputFormat, ParquetOutputFormat>();
        services.AddSingleton<IOutputFormat, ReportOutputFormat>();
        services.AddSingleton<IOutputFormat, ReviewOutputFormat>();
        services.AddSingleton<IOutputFormat, LabelStudioOutputFormat>();
        services.AddSingleton<IOutputFormat, LabelStudioConfigFormat>();
        return services;
    }
}
