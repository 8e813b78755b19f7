using System;
using System.Collections.Generic;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>Owns the intermediate images of one conversion: each holds native memory until disposed.</summary>
internal sealed class ImageScope : IDisposable
{
    private readonly List<Image> images = new();
    private readonly HashSet<Image> seen = new(ReferenceEqualityComparer.Instance);

    public Image Add(Image image)
    {
        if (seen.Add(image))
        {
            images.Add(image);
        }

        return image;
    }

    public void Dispose()
    {
        for (int i = images.Count - 1; i >= 0; i--)
        {
            images[i].Dispose();
        }
    }

    private sealed class ReferenceEqualityComparer : IEqualityComparer<Image>
    {
        public static readonly ReferenceEqualityComparer Instance = new();

        public bool Equals(Image? x, Image? y) => ReferenceEquals(x, y);

        public int GetHashCode(Image obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }
}

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

/// <summary>Per-frame processing of animations, which libvips stores as a vertical strip of pages.</summary>
internal static class Frames
{
    public static int PageHeight(Image image) =>
        image.PageHeight > 0 && image.PageHeight <= image.Height ? image.PageHeight : image.Height;

    /// <summary>Applies <paramref name="map"/> to each frame and joins them again; a still image is just mapped.</summary>
    public static Image Map(Image image, int frames, ImageScope scope, Func<Image, Image> map)
    {
        int pageHeight = PageHeight(image);
        if (frames <= 1 || pageHeight == image.Height)
        {
            return scope.Add(map(image));
        }

        int count = image.Height / pageHeight;
        var mapped = new Image[count];
        bool changed = false;
        for (int i = 0; i < count; i++)
        {
            Image frame = scope.Add(image.Crop(0, i * pageHeight, image.Width, pageHeight));
            mapped[i] = scope.Add(map(frame));
            changed |= !ReferenceEquals(mapped[i], frame);
        }

        if (!changed)
        {
            return image;
        }

        Image joined = scope.Add(Image.Arrayjoin(mapped, across: 1));
        int newPageHeight = mapped[0].Height;
        return scope.Add(joined.Mutate(m => m.Set(GValue.GIntType, "page-height", newPageHeight)));
    }
}
