using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/EfficientNet.Batch.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(EfficientNet.Batch.Benchmarks.PreprocessingBenchmarks).Assembly).Run(args);
