# syntax=docker/dockerfile:1
# Worker host, two targets. Build from the repository root:
#   docker build -f deploy/worker.Dockerfile --target gpu -t efficientnet-batch/worker:gpu .   (the default target)
#   docker build -f deploy/worker.Dockerfile --target cpu -t efficientnet-batch/worker:cpu .
# gpu: NVIDIA's CUDA 13 + cuDNN 9 runtime image, which Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31's CUDA provider needs,
#      plus the ASP.NET Core 10 runtime. Run it with Inference__Device=Cuda so a missing GPU stops the worker instead of
#      falling back to the CPU. Needs the NVIDIA container toolkit on the node and a driver that supports CUDA 13.
# cpu: the plain ASP.NET Core image, without the CUDA provider; run it with Inference__Device=Cpu.

# Tag naming follows NVIDIA's <cuda>-cudnn-runtime-<os> convention (public Dockerfiles use this exact tag); it was
# not pulled when this file was written, so confirm it exists before relying on it. Override with --build-arg.
ARG CUDA_IMAGE=nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04

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
COPY src/EfficientNet.Batch.Worker/EfficientNet.Batch.Worker.csproj src/EfficientNet.Batch.Worker/
RUN dotnet restore src/EfficientNet.Batch.Worker -r linux-x64 -p:SelfContained=false -p:PublishReadyToRun=true
COPY src/ src/
RUN dotnet publish src/EfficientNet.Batch.Worker -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
        --no-restore -o /app

# The CPU image does without ONNX Runtime's CUDA and TensorRT providers (about 285 MB). Removed in a build stage, not
# in the runtime image, so that no layer carries them. `rm` without -f: a renamed provider fails the build loudly.
FROM build AS build-cpu
RUN rm /app/libonnxruntime_providers_cuda.so /app/libonnxruntime_providers_tensorrt.so

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS aspnet

FROM aspnet AS cpu
# libjpeg-turbo's TurboJPEG decodes the JPEGs (Inference:JpegDecoder): OpenCV's pixels, about 2x ImageSharp's speed. The
# package is libturbojpeg on Ubuntu (libturbojpeg0 on Debian); both install libturbojpeg.so.0.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libturbojpeg \
    && rm -rf /var/lib/apt/lists/*
# The model store; a volume mounted here starts with this folder's owner, so the non-root user can write to it.
RUN mkdir -p /models && chown "$APP_UID:$APP_UID" /models
WORKDIR /app
COPY --from=build-cpu /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    Models__Directory=/models
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "EfficientNet.Batch.Worker.dll"]

FROM ${CUDA_IMAGE} AS gpu
# The ASP.NET Core runtime comes from Microsoft's image (same Ubuntu 24.04 base). Its native dependencies besides
# glibc and libstdc++: OpenSSL, zlib, CA certificates and tzdata. No ICU: the projects use InvariantGlobalization.
# libturbojpeg: libjpeg-turbo's TurboJPEG, the JPEG decoder (as in the cpu target).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates libssl3t64 libturbojpeg tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/*
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
# Same non-root user as the aspnet image (`app`, uid 1654), so volumes and securityContexts fit both targets.
ENV APP_UID=1654 \
    DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_RUNNING_IN_CONTAINER=true
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid "$APP_UID" app \
    && useradd --uid "$APP_UID" --gid app --create-home --shell /bin/false app \
    && mkdir -p /models && chown "$APP_UID:$APP_UID" /models
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    Models__Directory=/models
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "EfficientNet.Batch.Worker.dll"]
