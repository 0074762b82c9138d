using System.Text.Json;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The Dockerfiles cannot be built here (no Docker engine in the test environment), so what can be checked
/// without one is: they publish the right host, start the assembly it builds, restore with every project it needs and
/// copy only files that exist.</summary>
public sealed class DockerfileTests
{
    public static TheoryData<string, string> Hosts => new()
    {
        { Repository.CoordinatorDockerfile, "src/EfficientNet.Batch.Coordinator/EfficientNet.Batch.Coordinator.csproj" },
        { Repository.WorkerDockerfile, "src/EfficientNet.Batch.Worker/EfficientNet.Batch.Worker.csproj" },
    };

    [Theory]
    [MemberData(nameof(Hosts))]
    public void Each_Dockerfile_publishes_its_host_and_starts_the_assembly_it_builds(string dockerfile, string project)
    {
        var instructions = Dockerfile.Parse(dockerfile);

        var published = Assert.Single(instructions, i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal));
        Assert.Equal(Path.GetDirectoryName(project)!.Replace('\\', '/'), Dockerfile.Words(published.Arguments)[2].TrimEnd('/'));
        Assert.True(File.Exists(Repository.PathOf(project)), $"{project} does not exist");

        var dll = $"{Repository.AssemblyNameOf(Repository.PathOf(project))}.dll";
        var entryPoints = instructions.Where(i => i.Keyword == "ENTRYPOINT").ToList();
        Assert.NotEmpty(entryPoints);
        Assert.All(entryPoints, e => Assert.Equal(["dotnet", dll], JsonSerializer.Deserialize<string[]>(e.Arguments) ?? []));
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public void The_restore_layer_has_every_project_and_build_setting_it_needs(string dockerfile, string project)
    {
        var instructions = Dockerfile.Parse(dockerfile).ToList();
        var restore = Assert.Single(instructions, i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet restore ", StringComparison.Ordinal));
        var publish = Assert.Single(instructions, i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal));
        var copiedBeforeRestore = instructions.TakeWhile(i => i != restore)
            .Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--", StringComparison.Ordinal))
            .SelectMany(i => Dockerfile.Words(i.Arguments)[..^1])
            .ToHashSet(StringComparer.Ordinal);

        var closure = Repository.ProjectClosure(project);
        // References are followed transitively: the hosts reach Contracts only through Components.
        Assert.Contains("src/EfficientNet.Batch.Contracts/EfficientNet.Batch.Contracts.csproj", closure);
        Assert.All(closure.Concat(["global.json", "Directory.Build.props", "Directory.Packages.props"]), file => Assert.Contains(file, copiedBeforeRestore));

        // `publish --no-restore` needs the restore made for the same runtime and ReadyToRun setting.
        Assert.Contains("--no-restore", publish.Arguments, StringComparison.Ordinal);
        Assert.Equal(Dockerfile.Words(publish.Arguments)[2], Dockerfile.Words(restore.Arguments)[2]);
        foreach (var option in new[] { "-r linux-x64", "-p:PublishReadyToRun=true" })
        {
            Assert.Contains(option, restore.Arguments, StringComparison.Ordinal);
            Assert.Contains(option, publish.Arguments, StringComparison.Ordinal);
        }

        Assert.Contains("-c Release", publish.Arguments, StringComparison.Ordinal);
        Assert.Contains("--self-contained false", publish.Arguments, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Repository.CoordinatorDockerfile)]
    [InlineData(Repository.WorkerDockerfile)]
    public void Every_file_a_Dockerfile_copies_from_the_repository_exists(string dockerfile)
    {
        var sources = Dockerfile.Parse(dockerfile)
            .Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => Dockerfile.Words(i.Arguments)[..^1])
            .ToList();

        Assert.NotEmpty(sources);
        Assert.All(sources, source => Assert.True(
            File.Exists(Repository.PathOf(source)) || Directory.Exists(Repository.PathOf(source)),
            $"{dockerfile}: COPY {source}: no such file in the repository"));
    }

    [Theory]
    [InlineData(Repository.CoordinatorDockerfile)]
    [InlineData(Repository.WorkerDockerfile)]
    public void Runtime_stages_run_as_a_non_root_user(string dockerfile)
    {
        var instructions = Dockerfile.Parse(dockerfile);
        var bases = instructions.Where(i => i.Keyword == "FROM").ToDictionary(i => i.Stage, i => Dockerfile.Words(i.Arguments)[0], StringComparer.Ordinal);

        foreach (var stage in instructions.Where(i => i.Keyword == "ENTRYPOINT").Select(i => i.Stage))
        {
            Assert.Equal(["$APP_UID"], instructions.Where(i => i.Stage == stage && i.Keyword == "USER").Select(i => i.Arguments));
            // APP_UID is the aspnet image's `app` user (uid 1654); a stage on another image defines it and the user.
            var image = bases[stage];
            while (bases.TryGetValue(image, out var parent))
            {
                image = parent;
            }

            var definesUser = instructions.Any(i => i.Stage == stage && i.Keyword == "ENV" && i.Arguments.Contains("APP_UID=1654", StringComparison.Ordinal)) &&
                              instructions.Any(i => i.Stage == stage && i.Keyword == "RUN" && i.Arguments.Contains("useradd --uid \"$APP_UID\"", StringComparison.Ordinal));
            Assert.True(image == "mcr.microsoft.com/dotnet/aspnet:10.0" || definesUser, $"{dockerfile} stage {stage}: no non-root user 'app' on {image}");
        }
    }

    [Fact]
    public void The_gpu_worker_runs_on_cuda_13_with_cudnn_and_is_the_default_target()
    {
        var instructions = Dockerfile.Parse(Repository.WorkerDockerfile);
        var cudaImage = Assert.Single(instructions, i => i.Stage == "" && i.Keyword == "ARG" && i.Arguments.StartsWith("CUDA_IMAGE=", StringComparison.Ordinal));

        // Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31's CUDA provider is built for CUDA 13 and cuDNN 9.
        Assert.Matches(@"^CUDA_IMAGE=nvidia/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu24\.04$", cudaImage.Arguments);
        Assert.Equal("gpu", Dockerfile.Stages(instructions)[^1]);
        Assert.Contains(instructions, i => i.Stage == "gpu" && i.Keyword == "COPY" && i.Arguments == "--from=aspnet /usr/share/dotnet /usr/share/dotnet");
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0 AS aspnet", Assert.Single(instructions, i => i.Stage == "aspnet").Arguments);
    }

    [Fact]
    public void Build_outputs_on_the_developer_machine_stay_out_of_the_build_context()
    {
        var ignored = Repository.Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);

        // A host's obj/project.assets.json would carry its paths into the image's restore.
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
        Assert.Contains(".git", ignored);
    }
}
