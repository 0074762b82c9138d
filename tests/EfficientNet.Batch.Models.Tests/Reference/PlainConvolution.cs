using System.Numerics;
using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Models.Tests.Reference;

/// <summary>A feature map of one image, laid out [channels, height, width].</summary>
internal sealed record FeatureMap(int Channels, int Height, int Width, double[] Data)
{
    public Span<double> Plane(int channel) => Data.AsSpan(channel * Height * Width, Height * Width);
}

/// <summary>Direct 2-D convolution in double with TF "SAME" padding, written from the spec formula (§1.3).</summary>
internal static class PlainConvolution
{
    /// <summary>TF "SAME" for one axis: out = ⌈size/s⌉, P = max((out − 1)·s + k − size, 0), ⌊P/2⌋ before
    /// (the extra pixel goes after).</summary>
    public static (int Output, int Before, int After) SamePadding(int size, int kernel, int stride)
    {
        var output = (size + stride - 1) / stride;
        var total = Math.Max(((output - 1) * stride) + kernel - size, 0);
        return (output, total / 2, total - (total / 2));
    }

    /// <summary>Convolves <paramref name="x"/> with weights [out, in (1 when depthwise), k, k], no bias. The loops
    /// run per output channel (in parallel), then per input channel and tap, sweeping whole output rows so that the
    /// stride-1 inner loop is a contiguous multiply-add.</summary>
    public static FeatureMap Same(FeatureMap x, double[] weights, int outChannels, int kernel, int stride, bool depthwise)
    {
        var (outH, top, _) = SamePadding(x.Height, kernel, stride);
        var (outW, left, _) = SamePadding(x.Width, kernel, stride);
        var inPerOutput = depthwise ? 1 : x.Channels;
        if (depthwise && outChannels != x.Channels)
        {
            throw new ArgumentException("A depthwise conv keeps the channel count.", nameof(outChannels));
        }

        var y = new FeatureMap(outChannels, outH, outW, new double[outChannels * outH * outW]);
        Parallel.For(0, outChannels, oc =>
        {
            var plane = y.Plane(oc);
            for (var j = 0; j < inPerOutput; j++)
            {
                var source = x.Plane(depthwise ? oc : j);
                for (var ky = 0; ky < kernel; ky++)
                {
                    for (var kx = 0; kx < kernel; kx++)
                    {
                        var w = weights[(((oc * inPerOutput) + j) * kernel + ky) * kernel + kx];
                        // Output columns whose input column ox·s + kx − left lies inside the image.
                        var firstX = Math.Max(0, CeilDiv(left - kx, stride));
                        var lastX = Math.Min(outW - 1, FloorDiv(x.Width - 1 - kx + left, stride));
                        if (lastX < firstX)
                        {
                            continue;
                        }

                        for (var oy = 0; oy < outH; oy++)
                        {
                            var iy = (oy * stride) + ky - top;
                            if (iy < 0 || iy >= x.Height)
                            {
                                continue;
                            }

                            var outRow = plane.Slice(oy * outW, outW);
                            var inRow = source.Slice(iy * x.Width, x.Width);
                            if (stride == 1)
                            {
                                MultiplyAdd(outRow[firstX..(lastX + 1)], inRow[(firstX + kx - left)..], w);
                            }
                            else
                            {
                                for (var ox = firstX; ox <= lastX; ox++)
                                {
                                    outRow[ox] += w * inRow[(ox * stride) + kx - left];
                                }
                            }
                        }
                    }
                }
            }
        });
        return y;
    }

    /// <summary>destination[i] += a · source[i], vectorised (separate multiply and add, no FMA).</summary>
    private static void MultiplyAdd(Span<double> destination, ReadOnlySpan<double> source, double a)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && destination.Length >= Vector<double>.Count)
        {
            var factor = new Vector<double>(a);
            var d = MemoryMarshal.Cast<double, Vector<double>>(destination);
            var s = MemoryMarshal.Cast<double, Vector<double>>(source[..destination.Length]);
            for (var v = 0; v < d.Length; v++)
            {
                d[v] += factor * s[v];
            }

            i = d.Length * Vector<double>.Count;
        }

        for (; i < destination.Length; i++)
        {
            destination[i] += a * source[i];
        }
    }

    private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);

    private static int CeilDiv(int a, int b) => (int)Math.Ceiling((double)a / b);
}
