using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Schedules;

public static class ScheduleRegistration
{
    /// <summary>Schedules: their store (beside the jobs' state), the routes' service and the runner that fires them.</summary>
    public static IHostApplicationBuilder AddSchedules(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ScheduleOptions>()
            .BindConfiguration(ScheduleOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScheduleOptions>, ScheduleOptionsAnnotationsValidator>());
        builder.Services.AddSingleton(sp =>
        {
            var location = sp.GetRequiredService<IStorageResolver>().Resolve(sp.GetRequiredService<IOptions<CoordinatorOptions>>().Value.StateLocation);
            return new ScheduleStore(location.Store, location.Prefix);
        });
        builder.Services.AddSingleton<ScheduleRunStarter>();
        builder.Services.AddSingleton<ScheduleService>();
        builder.Services.AddSingleton<ScheduleRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ScheduleRunner>());
        return builder;
    }
}
