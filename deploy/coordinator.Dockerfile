# syntax=docker/dockerfile:1
# Coordinator host. Build from the repository root:
#   docker build -f deploy/coordinator.Dockerfile -t efficientnet-batch/coordinator .
# Run exactly one coordinator per deployment: it counts each job's shard events in memory (see README, Deployment).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the build settings and project files alone, so the package layer is reused until one of them changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/EfficientNet.Batch.Contracts/EfficientNet.Batch.Contracts.csproj src/EfficientNet.Batch.Contracts/
COPY src/EfficientNet.Batch.Models/EfficientNet.Batch.Models.csproj src/EfficientNet.Batch.Models/
COPY src/EfficientNet.Batch.Inference/EfficientNet.Batch.Inference.csproj src/EfficientNet.Batch.Inference/
COPY src/EfficientNet.Batch.Storage/EfficientNet.Batch.Storage.csproj src/EfficientNet.Batch.Storage/
COPY src/EfficientNet.Batch.Components/EfficientNet.Batch.Components.csproj src/EfficientNet.Batch.Components/
COPY src/EfficientNet.Batch.ServiceDefaults/EfficientNet.Batch.ServiceDefaults.csproj src/EfficientNet.Batch.ServiceDefaults/
COPY src/EfficientNet.Batch.Coordinator/EfficientNet.Batch.Coordinator.csproj src/EfficientNet.Batch.Coordinator/
RUN dotnet restore src/EfficientNet.Batch.Coordinator -r linux-x64 -p:SelfContained=false -p:PublishReadyToRun=true
COPY src/ src/
# The coordinator never runs a model: ONNX Runtime's CUDA and TensorRT providers (about 285 MB), which it only has
# through the shared Components project, are dropped. `rm` without -f: a renamed provider fails the build loudly.
RUN dotnet publish src/EfficientNet.Batch.Coordinator -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
        --no-restore -o /app \
    && rm /app/libonnxruntime_providers_cuda.so /app/libonnxruntime_providers_tensorrt.so

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
# The aspnet image's non-root user `app` (uid 1654).
USER $APP_UID
ENTRYPOINT ["dotnet", "EfficientNet.Batch.Coordinator.dll"]
