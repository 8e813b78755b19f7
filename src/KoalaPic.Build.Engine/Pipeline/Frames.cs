using System;
using NetVips;

namespace KoalaPic.Build.Engine;

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
