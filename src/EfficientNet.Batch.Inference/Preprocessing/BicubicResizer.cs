using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// <c>cv2.resize(src, (R, R), interpolation=cv2.INTER_CUBIC)</c> for interleaved 3-channel uint8, bit-exact
/// with OpenCV 4.x on x86-64 (checked against cv2 4.6 fixtures; accepted difference: 0).
/// </summary>
/// <remarks>
/// What OpenCV does, and what this class reproduces (imgproc/src/resize.cpp):
/// <list type="bullet">
/// <item>scale = 1 / (dst / src) in double; fx = (float)((dx + 0.5) · scale − 0.5); sx = floor(fx); fx −= sx
/// in float; Keys cubic with a = −0.75 evaluated in float (<c>interpolateCubic</c>); each weight is
/// multiplied by 2048 and rounded half-to-even to short (<c>saturate_cast&lt;short&gt;</c>); weights are not
/// renormalised, so they may sum to 2047 or 2049.</item>
/// <item>Taps sx−1..sx+2 are clamped to the image (replicated border), in both directions.</item>
/// <item>Horizontal pass: exact integer sums of byte × short into int rows. OpenCV runs it scalar; here the output
/// pixels whose four taps lie inside the row take SSSE3 (<c>pshufb</c> + <c>pmaddwd</c>, all three channels in one
/// step), the rest the scalar loop. Integer sums are exact in any order, so both give OpenCV's values.</item>
/// <item>Vertical pass: OpenCV's SSE2 path (<c>VResizeCubicVec_32s8u</c>, baseline 128-bit SIMD) handles the
/// first ⌊3R / 8⌋ · 8 values of each row in <b>float</b>: row · (beta / 2²²), summed as
/// s0·b0 + (s1·b1 + (s2·b2 + s3·b3)) without FMA, rounded half-to-even, saturated. Only the remaining
/// 3R mod 8 values take the scalar fixed-point path (sum + 2²¹) >> 22. The two disagree on rare ties,
/// which is why both are reproduced here.</item>
/// </list>
/// Tables depend only on (source size, R) and are cached; resizing allocates nothing but pooled rows.
/// An instance is immutable and safe to use from many threads.
/// </remarks>
public sealed class BicubicResizer
{
    private const int CoefficientBits = 11; // INTER_RESIZE_COEF_BITS
    private const int CoefficientScale = 1 << CoefficientBits; // INTER_RESIZE_COEF_SCALE = 2048
    private const int Channels = 3;
    private const int Taps = 4;
    private const int MaxCachedAxes = 4096;

    // The SSE2 vertical loop handles 8 outputs per step (v_int16x8): `for (; x <= width - 8; x += 8)`.
    private const int OpenCvVectorLanes = 8;

    private static readonly ConcurrentDictionary<(int Source, int Destination), AxisTable> AxisCache = new();

    private readonly AxisTable _columns;
    private readonly AxisTable _rows;

    /// <summary>Tables for resizing a <paramref name="sourceWidth"/> × <paramref name="sourceHeight"/> region to
    /// <paramref name="outputSize"/>².</summary>
    public BicubicResizer(int sourceWidth, int sourceHeight, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputSize, 1);
        SourceWidth = sourceWidth;
        SourceHeight = sourceHeight;
        OutputSize = outputSize;
        _columns = GetAxis(sourceWidth, outputSize);
        _rows = sourceHeight == sourceWidth ? _columns : GetAxis(sourceHeight, outputSize);
    }

    public int SourceWidth { get; }

    public int SourceHeight { get; }

    public int OutputSize { get; }

    /// <summary>Bytes written by <see cref="Resize(ReadOnlySpan{byte}, int, int, int, Span{byte})"/>: R · R · 3.</summary>
    public int OutputLength => OutputSize * OutputSize * Channels;

    /// <summary>
    /// Resizes the <see cref="SourceWidth"/> × <see cref="SourceHeight"/> region at (<paramref name="top"/>,
    /// <paramref name="left"/>) of an interleaved 3-channel image into <paramref name="destination"/>
    /// (R × R × 3, row-major, same channel order as the source).
    /// </summary>
    /// <param name="source">Whole source image; rows are <paramref name="sourceStride"/> bytes apart.</param>
    public void Resize(ReadOnlySpan<byte> source, int sourceStride, int top, int left, Span<byte> destination) =>
        Resize(source, sourceStride, top, left, destination, VectorRowsSupported);

    /// <summary>Whether this machine takes the SIMD horizontal pass (x86-64 with SSSE3 and SSE4.1).</summary>
    internal static bool VectorRowsSupported => Ssse3.IsSupported && Sse41.IsSupported;

    /// <param name="vectorRows">Whether the horizontal pass uses SIMD where it can (tests compare it with the scalar
    /// loop it replaces).</param>
    internal unsafe void Resize(ReadOnlySpan<byte> source, int sourceStride, int top, int left, Span<byte> destination, bool vectorRows)
    {
        if (vectorRows && !VectorRowsSupported)
        {
            throw new PlatformNotSupportedException("The SIMD horizontal pass needs SSSE3 and SSE4.1.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(top);
        ArgumentOutOfRangeException.ThrowIfNegative(left);
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceStride, (left + SourceWidth) * Channels);
        var lastByte = ((long)top + SourceHeight - 1) * sourceStride + ((long)left + SourceWidth) * Channels;
        if (lastByte > source.Length)
        {
            throw new ArgumentException(
                $"The {SourceWidth}x{SourceHeight} region at ({left}, {top}) with stride {sourceStride} " +
                $"needs {lastByte} bytes; the source holds {source.Length}.", nameof(source));
        }

        if (destination.Length < OutputLength)
        {
            throw new ArgumentException($"Destination holds {destination.Length} bytes; {OutputLength} are needed.", nameof(destination));
        }

        var rowLength = OutputSize * Channels;
        // The SIMD pass stores four ints per pixel (the fourth is the next pixel's first, or this padding).
        var slotLength = rowLength + 1;
        var buffer = ArrayPool<int>.Shared.Rent(slotLength * Taps);
        try
        {
            fixed (byte* sourceBase = source)
            fixed (byte* output = destination)
            fixed (int* rows = buffer)
            fixed (int* columnTaps = _columns.SourceOffsetsInBytes)
            fixed (short* columnWeights = _columns.Weights)
            fixed (short* pairedWeights = _columns.PairedWeights)
            fixed (int* rowTaps = _rows.SourceIndices)
            fixed (short* rowWeights = _rows.Weights)
            {
                var regionOrigin = sourceBase + (long)top * sourceStride + (long)left * Channels;
                // Horizontally resized source rows are kept in four slots. The four rows one output row needs
                // are consecutive after clamping, so `row & 3` never puts two needed rows in one slot.
                var slotSourceRow = stackalloc int[Taps] { -1, -1, -1, -1 };
                var slot = stackalloc int*[Taps];
                for (var dy = 0; dy < OutputSize; dy++)
                {
                    for (var k = 0; k < Taps; k++)
                    {
                        var sourceRow = rowTaps[dy * Taps + k];
                        var index = sourceRow & (Taps - 1);
                        slot[k] = rows + index * slotLength;
                        if (slotSourceRow[index] != sourceRow)
                        {
                            var sourceRowStart = regionOrigin + (long)sourceRow * sourceStride;
                            if (vectorRows)
                            {
                                ResizeRowVector(sourceRowStart, slot[k], columnTaps, columnWeights, pairedWeights, _columns.VectorFirst, _columns.VectorEnd, OutputSize);
                            }
                            else
                            {
                                ResizeRow(sourceRowStart, slot[k], columnTaps, columnWeights, 0, OutputSize);
                            }

                            slotSourceRow[index] = sourceRow;
                        }
                    }

                    CombineRows(slot[0], slot[1], slot[2], slot[3], rowWeights + dy * Taps, output + (long)dy * rowLength, rowLength);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(buffer);
        }
    }

    private static AxisTable GetAxis(int source, int destination)
    {
        if (AxisCache.TryGetValue((source, destination), out var table))
        {
            return table;
        }

        table = new AxisTable(source, destination);
        // Crop sizes follow image sizes, which are many but finite; stop caching rather than grow without bound.
        if (AxisCache.Count < MaxCachedAxes)
        {
            AxisCache.TryAdd((source, destination), table);
        }

        return table;
    }

    /// <summary>The scalar horizontal pass over output pixels [<paramref name="first"/>, <paramref name="end"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ResizeRow(byte* source, int* row, int* taps, short* weights, int first, int end)
    {
        taps += first * Taps;
        weights += first * Taps;
        row += first * Channels;
        for (var dx = first; dx < end; dx++, taps += Taps, weights += Taps, row += Channels)
        {
            byte* p0 = source + taps[0], p1 = source + taps[1], p2 = source + taps[2], p3 = source + taps[3];
            int w0 = weights[0], w1 = weights[1], w2 = weights[2], w3 = weights[3];
            row[0] = (p0[0] * w0) + (p1[0] * w1) + (p2[0] * w2) + (p3[0] * w3);
            row[1] = (p0[1] * w0) + (p1[1] * w1) + (p2[1] * w2) + (p3[1] * w3);
            row[2] = (p0[2] * w0) + (p1[2] * w1) + (p2[2] * w2) + (p3[2] * w3);
        }
    }

    /// <summary>
    /// The horizontal pass with SSSE3 for the output pixels in [<paramref name="vectorFirst"/>,
    /// <paramref name="vectorEnd"/>), whose taps are four consecutive source pixels with 16 readable bytes from the
    /// first: one load holds all twelve bytes, <c>pshufb</c> groups them by channel, <c>pmaddwd</c> multiplies them by
    /// (w0, w1, w2, w3) twice, and one horizontal add leaves (r, g, b, 0), stored as four ints. The pixels at the
    /// borders (clamped, repeated taps) take the scalar loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ResizeRowVector(
        byte* source, int* row, int* taps, short* weights, short* pairedWeights, int vectorFirst, int vectorEnd, int outputSize)
    {
        ResizeRow(source, row, taps, weights, 0, vectorFirst);
        // Bytes r0 g0 b0 r1 g1 b1 r2 g2 b2 r3 g3 b3 → r0 r1 r2 r3 g0 g1 g2 g3 | b0 b1 b2 b3, then zeros.
        var byChannel = Vector128.Create((byte)0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, 0x80, 0x80, 0x80, 0x80);
        var zero = Vector128<byte>.Zero;
        for (var dx = vectorFirst; dx < vectorEnd; dx++)
        {
            var pixels = Ssse3.Shuffle(Sse2.LoadVector128(source + taps[dx * Taps]), byChannel);
            var w = Sse2.LoadVector128(pairedWeights + (dx * 8));
            var redGreen = Sse2.MultiplyAddAdjacent(Sse41.ConvertToVector128Int16(pixels), w);
            var blue = Sse2.MultiplyAddAdjacent(Sse2.UnpackHigh(pixels, zero).AsInt16(), w);
            Sse2.Store(row + (dx * Channels), Ssse3.HorizontalAdd(redGreen, blue));
        }

        ResizeRow(source, row, taps, weights, vectorEnd, outputSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void CombineRows(int* s0, int* s1, int* s2, int* s3, short* beta, byte* output, int length)
    {
        // OpenCV's float path: beta / 2048² is exact in float; the products and sums round like SSE2 mulps/addps.
        const float ToUnit = 1f / (CoefficientScale * CoefficientScale);
        float b0 = beta[0] * ToUnit, b1 = beta[1] * ToUnit, b2 = beta[2] * ToUnit, b3 = beta[3] * ToUnit;
        var vectorEnd = length - (length % OpenCvVectorLanes);
        var x = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Lane-wise IEEE float ops give the same bits as OpenCV's 4-wide SSE2 code, 8 at a time. The JIT
            // does not fuse a * b + c into an FMA, which would change the rounding.
            Vector256<float> v0 = Vector256.Create(b0), v1 = Vector256.Create(b1), v2 = Vector256.Create(b2), v3 = Vector256.Create(b3);
            Vector256<int> zero = Vector256<int>.Zero, max = Vector256.Create(255);
            for (; x + 8 <= vectorEnd; x += 8)
            {
                var sum = (Vector256.ConvertToSingle(Vector256.Load(s0 + x)) * v0) +
                          ((Vector256.ConvertToSingle(Vector256.Load(s1 + x)) * v1) +
                           ((Vector256.ConvertToSingle(Vector256.Load(s2 + x)) * v2) +
                            (Vector256.ConvertToSingle(Vector256.Load(s3 + x)) * v3)));
                var rounded = Vector256.ConvertToInt32(Vector256.Round(sum));
                // Clamped to 0..255, so narrowing (which truncates) keeps every value: eight bytes in one store.
                var clamped = Vector256.Min(Vector256.Max(rounded, zero), max);
                var shorts = Vector128.Narrow(clamped.GetLower(), clamped.GetUpper());
                Unsafe.WriteUnaligned(output + x, Vector128.Narrow(shorts, shorts).AsUInt64().ToScalar());
            }
        }

        for (; x < vectorEnd; x++)
        {
            var sum = (s0[x] * b0) + ((s1[x] * b1) + ((s2[x] * b2) + (s3[x] * b3)));
            output[x] = SaturateToByte((int)MathF.Round(sum)); // MathF.Round: half-to-even, like cvtps2dq
        }

        // OpenCV's scalar tail: FixedPtCast<int, uchar, 22>, i.e. (sum + 2^21) >> 22, saturated.
        int i0 = beta[0], i1 = beta[1], i2 = beta[2], i3 = beta[3];
        const int Shift = CoefficientBits * 2;
        for (; x < length; x++)
        {
            var sum = (s0[x] * i0) + (s1[x] * i1) + (s2[x] * i2) + (s3[x] * i3);
            output[x] = SaturateToByte((sum + (1 << (Shift - 1))) >> Shift);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte SaturateToByte(int value) => (byte)Math.Clamp(value, 0, 255);

    /// <summary>Source taps (clamped) and 11-bit weights for one axis, four per output position.</summary>
    private sealed class AxisTable
    {
        public AxisTable(int source, int destination)
        {
            SourceIndices = new int[destination * BicubicResizer.Taps];
            Weights = new short[destination * BicubicResizer.Taps];
            // cv::resize passes inv_scale = dst / src and hal::resize inverts it: keep both divisions.
            var inverseScale = (double)destination / source;
            var scale = 1.0 / inverseScale;
            Span<float> cubic = stackalloc float[BicubicResizer.Taps];
            for (var d = 0; d < destination; d++)
            {
                var f = (float)(((d + 0.5) * scale) - 0.5);
                var s = (int)MathF.Floor(f);
                f -= s;
                // OpenCV keeps the unclamped sx and fraction for INTER_CUBIC and clamps each tap when reading.
                Interpolate(f, cubic);
                for (var k = 0; k < BicubicResizer.Taps; k++)
                {
                    SourceIndices[(d * BicubicResizer.Taps) + k] = Math.Clamp(s - 1 + k, 0, source - 1);
                    Weights[(d * BicubicResizer.Taps) + k] = SaturateToShort(cubic[k] * CoefficientScale);
                }
            }

            // Column taps are read as byte offsets into interleaved rows; row taps stay indices (stride varies).
            SourceOffsetsInBytes = SourceIndices.Select(index => index * Channels).ToArray();

            // The SIMD horizontal pass: (w0, w1, w2, w3) twice per output pixel, and the pixels it may take: taps
            // s−1..s+2 unclamped, with the 16 bytes loaded from tap s−1 inside the row (3 · (s − 1) + 16 ≤ 3 · source).
            // The first tap only grows with the output position, so those pixels are one range.
            PairedWeights = new short[destination * 8];
            VectorFirst = destination;
            VectorEnd = destination;
            for (var d = 0; d < destination; d++)
            {
                for (var k = 0; k < 8; k++)
                {
                    PairedWeights[(d * 8) + k] = Weights[(d * BicubicResizer.Taps) + (k % BicubicResizer.Taps)];
                }

                var first = SourceIndices[d * BicubicResizer.Taps];
                var unclamped = first == SourceIndices[(d * BicubicResizer.Taps) + 1] - 1 && first + BicubicResizer.Taps - 1 == SourceIndices[(d * BicubicResizer.Taps) + 3];
                var inside = ((first * Channels) + 16) <= source * Channels;
                if (unclamped && inside)
                {
                    VectorFirst = Math.Min(VectorFirst, d);
                    VectorEnd = d + 1;
                }
            }

            if (VectorFirst == destination)
            {
                VectorFirst = VectorEnd = 0;
            }
        }

        /// <summary>(w0, w1, w2, w3, w0, w1, w2, w3) of each output position, for <c>pmaddwd</c>.</summary>
        public short[] PairedWeights { get; }

        /// <summary>The output positions [<see cref="VectorFirst"/>, <see cref="VectorEnd"/>) the SIMD horizontal pass
        /// takes; empty when none qualifies.</summary>
        public int VectorFirst { get; }

        public int VectorEnd { get; }

        /// <summary>Clamped source index of each tap.</summary>
        public int[] SourceIndices { get; }

        /// <summary><see cref="SourceIndices"/> × 3: offsets of the taps' first channel in an interleaved row.</summary>
        public int[] SourceOffsetsInBytes { get; }

        public short[] Weights { get; }

        // interpolateCubic() in resize.cpp, float arithmetic in the same order.
        private static void Interpolate(float x, Span<float> coefficients)
        {
            const float A = -0.75f;
            coefficients[0] = ((((A * (x + 1)) - (5 * A)) * (x + 1)) + (8 * A)) * (x + 1) - (4 * A);
            coefficients[1] = ((((A + 2) * x) - (A + 3)) * x * x) + 1;
            coefficients[2] = ((((A + 2) * (1 - x)) - (A + 3)) * (1 - x) * (1 - x)) + 1;
            coefficients[3] = 1f - coefficients[0] - coefficients[1] - coefficients[2];
        }

        // saturate_cast<short>(float): cvRound (half-to-even), then clamp.
        private static short SaturateToShort(float value) =>
            (short)Math.Clamp((int)MathF.Round(value), short.MinValue, short.MaxValue);
    }
}
