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

    /// <summary>
    /// By how much vips_thumbnail shrinks both axes of a source <paramref name="width"/> × <paramref name="height"/>
    /// (oriented) into <see cref="ThumbnailBounds"/>: what it picks its shrink-on-load factor from
    /// (vips_thumbnail_calculate_common_shrink, which libvips does not export). Below 1 when it enlarges.
    /// </summary>
    public static double CommonShrink(int width, int height, ConversionOptions options, bool vector)
    {
        var (boxWidth, boxHeight, size) = ThumbnailBounds(width, height, options, vector);
        double horizontal = (double)width / boxWidth;
        double vertical = (double)height / boxHeight;
        if (size != Enums.Size.Force)
        {
            // Fitting inside the box: the axis that needs the larger shrink decides both.
            horizontal = vertical = Math.Max(horizontal, vertical);
        }

        if (size == Enums.Size.Down)
        {
            horizontal = Math.Max(1, horizontal);
            vertical = Math.Max(1, vertical);
        }

        return Math.Min(Math.Min(horizontal, width), Math.Min(vertical, height));
    }

    /// <summary>The box a cover crop or contain padding produces; an unset side is the image's own.</summary>
    public static (int Width, int Height) Box(int width, int height, ConversionOptions options) =>
        (options.Width ?? width, options.Height ?? height);
}
