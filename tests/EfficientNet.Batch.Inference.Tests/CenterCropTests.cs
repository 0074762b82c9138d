namespace EfficientNet.Batch.Inference.Tests;

public sealed class CenterCropTests
{
    [Fact]
    public void Spec_example_500x375_at_224_crops_328_square_at_top_23_left_86()
    {
        // c = 224/256 · 375 = 328.125; top = round(23.4375) = 23; left = round(85.9375) = 86.
        Assert.Equal(new CropRectangle(Top: 23, Left: 86, Height: 328, Width: 328), CenterCrop.Compute(height: 375, width: 500, resolution: 224));
    }

    [Fact]
    public void Portrait_images_crop_the_middle_rows()
    {
        // c = 328.125 again; top = round((500 − 328.125) / 2) = round(85.9375) = 86.
        Assert.Equal(new CropRectangle(86, 23, 328, 328), CenterCrop.Compute(height: 500, width: 375, resolution: 224));
    }

    [Fact]
    public void Offsets_round_half_to_even_like_python()
    {
        // R = 32 makes c = min(H, W) / 2. 8x6 → c = 3, (H − c)/2 = 2.5 → 2 (away-from-zero would give 3),
        // (W − c)/2 = 1.5 → 2.
        Assert.Equal(new CropRectangle(2, 2, 3, 3), CenterCrop.Compute(height: 8, width: 6, resolution: 32));
        // 10x6 → 3.5 → 4 and 1.5 → 2: ties go to the even neighbour in both directions.
        Assert.Equal(new CropRectangle(4, 2, 3, 3), CenterCrop.Compute(height: 10, width: 6, resolution: 32));
    }

    [Fact]
    public void A_fractional_crop_side_is_truncated_after_adding_the_offset()
    {
        // 20x11 at R = 32 → c = 5.5; top = round(7.25) = 7, last row = trunc(7 + 5.5 − 1) = 11 → 5 rows;
        // left = round(2.75) = 3, last column = trunc(7.5) = 7 → 5 columns.
        Assert.Equal(new CropRectangle(7, 3, 5, 5), CenterCrop.Compute(height: 20, width: 11, resolution: 32));
    }

    [Fact]
    public void Square_image_at_its_own_resolution_keeps_seven_eighths()
    {
        // 224 · 224/256 = 196, centred: (224 − 196)/2 = 14.
        Assert.Equal(new CropRectangle(14, 14, 196, 196), CenterCrop.Compute(height: 224, width: 224, resolution: 224));
    }

    [Fact]
    public void Resolution_larger_than_the_image_still_crops_seven_eighths_of_the_short_side()
    {
        // 100x80 at R = 224: c = 70 exactly, top = round(15) = 15, left = round(5) = 5; the resize then upscales.
        Assert.Equal(new CropRectangle(15, 5, 70, 70), CenterCrop.Compute(height: 100, width: 80, resolution: 224));
        // Tiny image, large R: 3x3 at R = 600 → c = 2.848, top = round(0.076) = 0, last = trunc(1.848) = 1 → 2x2.
        Assert.Equal(new CropRectangle(0, 0, 2, 2), CenterCrop.Compute(height: 3, width: 3, resolution: 600));
    }

    [Fact]
    public void One_pixel_wide_images_keep_one_pixel_instead_of_an_empty_crop()
    {
        // c = 0.875 < 1. The reference slices an empty column range here; a 1-pixel crop keeps the image usable.
        Assert.Equal(new CropRectangle(0, 0, 1, 1), CenterCrop.Compute(height: 1, width: 1, resolution: 224));
        Assert.Equal(new CropRectangle(0, 2, 1, 1), CenterCrop.Compute(height: 1, width: 5, resolution: 224));
        Assert.Equal(new CropRectangle(2, 0, 1, 1), CenterCrop.Compute(height: 5, width: 1, resolution: 224));
    }

    [Fact]
    public void Crops_always_lie_inside_the_image()
    {
        foreach (var resolution in new[] { 1, 7, 224, 672 })
        {
            for (var height = 1; height <= 60; height++)
            {
                for (var width = 1; width <= 60; width += 7)
                {
                    var crop = CenterCrop.Compute(height, width, resolution);
                    Assert.InRange(crop.Height, 1, height);
                    Assert.InRange(crop.Width, 1, width);
                    Assert.InRange(crop.Top + crop.Height, 1, height);
                    Assert.InRange(crop.Left + crop.Width, 1, width);
                }
            }
        }
    }

    [Fact]
    public void Invalid_sizes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CenterCrop.Compute(0, 10, 224));
        Assert.Throws<ArgumentOutOfRangeException>(() => CenterCrop.Compute(10, 10, 0));
    }
}
