using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using EfficientNet.Batch.Inference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Benchmarks;

/// <summary>
/// The three steps of preprocessing one photo for b0 (224 px), on a few of the shared sample photos: JPEG decode,
/// centre crop + OpenCV bicubic resize, and the normalising tensor fill, plus the whole of
/// <see cref="ImagePreprocessor.Preprocess"/> for reference.
/// </summary>
[MemoryDiagnoser]
public class PreprocessingBenchmarks
{
    private const int Resolution = 224;
    private static readonly string[] SampleNames = ["n01440764_tench.JPEG", "n01443537_goldfish.JPEG", "n01484850_great_white_shark.JPEG"];

    private readonly ImagePreprocessor _preprocessor = new(PreprocessSpec.ImageNet(Resolution));
    private readonly float[] _tensor = new float[3 * Resolution * Resolution];
    private byte[] _encoded = [];
    private byte[] _decodedRgb = [];
    private int _width;
    private CropRectangle _crop;
    private BicubicResizer? _resizer;
    private byte[] _resized = [];

    [ParamsSource(nameof(Samples))]
    public string Sample { get; set; } = "";

    public static IEnumerable<string> Samples() => SampleNames;

    [GlobalSetup]
    public void Setup()
    {
        _encoded = File.ReadAllBytes(Path.Combine(SamplesDirectory(), Sample));
        using var image = Image.Load<Rgb24>(_encoded);
        _width = image.Width;
        _decodedRgb = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(MemoryMarshal.Cast<byte, Rgb24>(_decodedRgb.AsSpan()));
        _crop = CenterCrop.Compute(image.Height, image.Width, Resolution);
        _resizer = new BicubicResizer(_crop.Width, _crop.Height, Resolution);
        _resized = new byte[_resizer.OutputLength];
        _resizer.Resize(_decodedRgb, _width * 3, _crop.Top, _crop.Left, _resized);
    }

    [Benchmark]
    public int Decode()
    {
        using var image = Image.Load<Rgb24>(_encoded);
        return image.Width;
    }

    [Benchmark]
    public void CropAndResize() => _resizer!.Resize(_decodedRgb, _width * 3, _crop.Top, _crop.Left, _resized);

    [Benchmark]
    public void TensorFill() => _preprocessor.Normalise(_resized, _tensor);

    [Benchmark(Baseline = true)]
    public PreprocessedImage Preprocess() => _preprocessor.Preprocess(_encoded, _tensor);

    private static string SamplesDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "shared", "data", "imagenet-samples");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No folder 'shared/data/imagenet-samples' above {AppContext.BaseDirectory}.");
    }
}
