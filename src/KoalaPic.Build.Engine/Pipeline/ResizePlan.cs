using System;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>The output size of each fit mode, with sharp's meanings.</summary>
internal static class ResizePlan
{
    // "No limit" for the side that is not constrained, as sharp passes it to vips_thumbnail.
    private const int Unbounded = 10_000_000;

    /// <summary>
    /// The vips_thumbnail bounds that scale the source before any crop (cover) or padding (contain): libvips then
    /// rounds the free side itself, exactly as sharp's pipeline does. Vector sources are rendered at the requested
    /// size, so they always "enlarge".
    /// </summary>
    public static (int Width, int Height, Enums.Size Size) ThumbnailBounds(int width, int height, ConversionOptions options, bool vector)
    {
        int? boxWidth = options.Width;
        int? boxHeight = options.Height;
        if (boxWidth == null && boxHeight == null)
        {
            return (Unbounded, Unbounded, Enums.Size.Down);
        }

        var size = options.Enlarge || vector ? Enums.Size.Both : Enums.Size.Down;
        if (boxWidth == null || boxHeight == null)
        {
            return (boxWidth ?? Unbounded, boxHeight ?? Unbounded, size);
        }

        switch (options.Fit)
        {
            case FitMode.Fill:
                return size == Enums.Size.Both
                    ? (boxWidth.Value, boxHeight.Value, Enums.Size.Force)
                    : (Math.Min(boxWidth.Value, width), Math.Min(boxHeight.Value, height), Enums.Size.Force);
            case FitMode.Cover:
            case FitMode.Outside:
                // Covering both sides: only the side that needs the larger scale bounds the thumbnail.
                return (double)boxWidth.Value / width >= (double)boxHeight.Value / height
                    ? (boxWidth.Value, Unbounded, size)
                    : (Unbounded, boxHeight.Value, size);
            default:
                return (boxWidth.Value, boxHeight.Value, size);
        }
    }

    /// <summary>The box a cover crop or contain padding produces; an unset side is the image's own.</summary>
    public static (int Width, int Height) Box(int width, int height, ConversionOptions options) =>
        (options.Width ?? width, options.Height ?? height);
}
