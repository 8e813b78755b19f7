using System;
using System.Globalization;
using System.Text.Json.Serialization;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>What an item's <c>Placeholder</c> metadata asks for.</summary>
public enum PlaceholderKind
{
    /// <summary>No placeholder (empty or <c>none</c>).</summary>
    None,

    /// <summary>The image's dominant colour.</summary>
    Color,

    /// <summary>A tiny blurred webp as a data URI, plus the dominant colour.</summary>
    Blur,

    /// <summary>A ThumbHash of the image and the PNG data URI decoded from it, plus the dominant colour.</summary>
    ThumbHash,
}

/// <summary>
/// What a page shows while the image loads: the manifest's <c>placeholder</c> object, also kept in state.json and in
/// cache entries so that an up-to-date build knows it without decoding the source. Field names are stable.
/// </summary>
public sealed record ImagePlaceholder
{
    /// <summary>The dominant colour, lower-case <c>#rrggbb</c>.</summary>
    [JsonPropertyName("color")] public string Color { get; init; } = "";

    /// <summary><c>data:image/webp;base64,…</c>, under 1024 characters; null unless Placeholder="blur".</summary>
    [JsonPropertyName("blur")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Blur { get; init; }

    /// <summary>
    /// The ThumbHash (https://evanw.github.io/thumbhash/) of the image, base64 with padding, about 33 characters;
    /// null unless Placeholder="thumbhash". For pages that decode it in the browser.
    /// </summary>
    [JsonPropertyName("thumbhash")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ThumbHash { get; init; }

    /// <summary>
    /// <c>data:image/png;base64,…</c>: <see cref="ThumbHash"/> decoded at build time (at most 32 px a side), so that
    /// the page needs no script; null unless Placeholder="thumbhash".
    /// </summary>
    [JsonPropertyName("thumbhash_data_uri")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ThumbHashDataUri { get; init; }

    /// <summary>True when this placeholder has everything <paramref name="kind"/> needs.</summary>
    public static bool Satisfies(ImagePlaceholder? placeholder, PlaceholderKind kind) => kind switch
    {
        PlaceholderKind.None => true,
        PlaceholderKind.Color => placeholder is { Color.Length: > 0 },
        PlaceholderKind.Blur => placeholder is { Color.Length: > 0, Blur: not null },
        _ => placeholder is { Color.Length: > 0, ThumbHash: not null, ThumbHashDataUri: not null },
    };

    /// <summary>What <paramref name="kind"/> asked for and no more (a colour-only item gets no blur a cache entry happened to hold).</summary>
    public static ImagePlaceholder? For(ImagePlaceholder? placeholder, PlaceholderKind kind)
    {
        if (kind == PlaceholderKind.None || !Satisfies(placeholder, kind))
        {
            return null;
        }

        return placeholder! with
        {
            Blur = kind == PlaceholderKind.Blur ? placeholder.Blur : null,
            ThumbHash = kind == PlaceholderKind.ThumbHash ? placeholder.ThumbHash : null,
            ThumbHashDataUri = kind == PlaceholderKind.ThumbHash ? placeholder.ThumbHashDataUri : null,
        };
    }
}

/// <summary>
/// Computes placeholders from an image the converter has already decoded and resized (the output's pixels, after
/// EXIF orientation, the crop or padding of Fit and the sRGB conversion): nothing is decoded again.
/// </summary>
internal static class Placeholders
{
    /// <summary>The data URI of the blur stays below this many characters.</summary>
    public const int MaxBlurLength = 1024;

    public const string BlurPrefix = "data:image/webp;base64,";

    /// <summary>
    /// The longer side of the thumbnail the colour histogram is taken on: large enough that averaging does not move
    /// thin areas of one colour into other bins (at 64 px, a photo on a white page came out dark grey).
    /// </summary>
    private const int HistogramSide = 256;

    /// <summary>Bins per channel of the colour histogram, as sharp's <c>stats().dominant</c>.</summary>
    private const int Bins = 16;

    /// <summary>Tried in order until the data URI fits; the last (4 px) cannot reach 1 KB.</summary>
    private static readonly (int Side, int Quality)[] BlurSteps =
    {
        (32, 50), (32, 30), (24, 30), (24, 15), (16, 20), (16, 5), (8, 10), (4, 5),
    };

    /// <param name="image">8-bit sRGB or grey, with or without alpha; for an animation, every frame as one strip.</param>
    /// <param name="background">Transparency is flattened onto the item's Background before the colour is taken.</param>
    public static ImagePlaceholder Compute(Image image, PlaceholderKind kind, Colour background)
    {
        if (kind == PlaceholderKind.None)
        {
            throw new ArgumentOutOfRangeException(nameof(kind));
        }

        using var scope = new ImageScope();
        Image frame = image;
        int pageHeight = Frames.PageHeight(image);
        if (pageHeight < image.Height)
        {
            frame = scope.Add(image.Crop(0, 0, image.Width, pageHeight));
        }

        // Down only: a small output is not enlarged. A memory copy, because both the histogram and the blur read it.
        Image small = scope.Add(frame.ThumbnailImage(HistogramSide, height: HistogramSide, size: Enums.Size.Down));
        if (small.Interpretation != Enums.Interpretation.Srgb)
        {
            small = scope.Add(small.Colourspace(Enums.Interpretation.Srgb));
        }

        if (small.HasAlpha())
        {
            small = scope.Add(small.Flatten(new double[] { background.R, background.G, background.B }));
        }

        if (small.Format != Enums.BandFormat.Uchar)
        {
            small = scope.Add(small.Cast(Enums.BandFormat.Uchar));
        }

        small = scope.Add(small.CopyMemory());
        string? thumbHash = null;
        if (kind == PlaceholderKind.ThumbHash)
        {
            var (width, height, rgba) = ThumbHashInput(frame);
            thumbHash = System.Convert.ToBase64String(ThumbHash.Encode(width, height, rgba));
        }

        return new ImagePlaceholder
        {
            Color = DominantColour(small),
            Blur = kind == PlaceholderKind.Blur ? BlurDataUri(small) : null,
            ThumbHash = thumbHash,
            ThumbHashDataUri = thumbHash == null ? null : ThumbHashDataUri(System.Convert.FromBase64String(thumbHash)),
        };
    }

    public const string ThumbHashPrefix = "data:image/png;base64,";

    /// <summary>
    /// The pixels the ThumbHash is taken of: the image shrunk (never enlarged) to fit 100×100, sRGB, 8-bit RGBA with
    /// its transparency kept (an opaque image gets alpha 255), row by row. The reference tests export these bytes for
    /// the reference encoder, so both encode the same pixels.
    /// </summary>
    internal static (int Width, int Height, byte[] Rgba) ThumbHashInput(Image frame)
    {
        using var scope = new ImageScope();
        Image small = scope.Add(frame.ThumbnailImage(ThumbHash.MaxInputSide, height: ThumbHash.MaxInputSide, size: Enums.Size.Down));
        if (small.Interpretation != Enums.Interpretation.Srgb)
        {
            small = scope.Add(small.Colourspace(Enums.Interpretation.Srgb));
        }

        if (!small.HasAlpha())
        {
            small = scope.Add(small.Bandjoin(255));
        }

        if (small.Format != Enums.BandFormat.Uchar)
        {
            small = scope.Add(small.Cast(Enums.BandFormat.Uchar));
        }

        return (small.Width, small.Height, small.WriteToMemory<byte>());
    }

    /// <summary>The hash decoded to a PNG data URI: RGB when the hash has no alpha, RGBA when it has.</summary>
    internal static string ThumbHashDataUri(byte[] hash)
    {
        var (width, height, rgba) = ThumbHash.Decode(hash);
        using Image decoded = Image.NewFromMemory(rgba, width, height, 4, Enums.BandFormat.Uchar);
        using Image tagged = decoded.Copy(interpretation: Enums.Interpretation.Srgb);
        bool opaque = true;
        for (int i = 3; i < rgba.Length && opaque; i += 4)
        {
            opaque = rgba[i] == 255;
        }

        using Image bands = opaque ? tagged.ExtractBand(0, n: 3) : tagged.Copy();
        byte[] png = bands.PngsaveBuffer(compression: 9, filter: Enums.ForeignPngFilter.All, keep: Enums.ForeignKeep.None);
        return ThumbHashPrefix + System.Convert.ToBase64String(png);
    }

    /// <summary>
    /// sharp's <c>stats().dominant</c>: a 16×16×16 histogram of the sRGB values, and the centre of the most populated
    /// bin (bin × 16 + 8 per channel). Ties go to the first bin in the histogram's memory order.
    /// </summary>
    internal static string DominantColour(Image rgb)
    {
        using Image hist = rgb.HistFindNdim(bins: Bins);
        // hist_find_ndim: x is the first band's bin, y the second's, and the bands of the pixel the third's.
        using Image counts = hist.Cast(Enums.BandFormat.Uint);
        uint[] memory = counts.WriteToMemory<uint>();
        int best = 0;
        uint bestCount = 0;
        for (int i = 0; i < memory.Length; i++)
        {
            uint count = memory[i];
            if (count > bestCount)
            {
                bestCount = count;
                best = i;
            }
        }

        int b = best % Bins;
        int r = best / Bins % counts.Width;
        int g = best / Bins / counts.Width;
        int Centre(int bin) => bin * (256 / Bins) + (256 / Bins / 2);
        return string.Format(CultureInfo.InvariantCulture, "#{0:x2}{1:x2}{2:x2}", Centre(r), Centre(g), Centre(b));
    }

    /// <summary>A slightly blurred webp of at most 32 px on its longer side, shrunk and lowered in quality until the data URI fits.</summary>
    internal static string BlurDataUri(Image rgb)
    {
        string? uri = null;
        foreach (var (side, quality) in BlurSteps)
        {
            using Image thumb = rgb.ThumbnailImage(side, height: side, size: Enums.Size.Down);
            using Image blurred = thumb.Gaussblur(side >= 16 ? 1.0 : 0.6);
            using Image cast = blurred.Format == Enums.BandFormat.Uchar ? blurred.Copy() : blurred.Cast(Enums.BandFormat.Uchar);
            byte[] webp = cast.WebpsaveBuffer(q: quality, effort: 4, smartSubsample: true, keep: Enums.ForeignKeep.None);
            uri = BlurPrefix + System.Convert.ToBase64String(webp);
            if (uri.Length < MaxBlurLength)
            {
                return uri;
            }
        }

        // A 4 px webp is a few dozen bytes; reaching here would be a libvips change, and the page must not get a 1 KB+ URI.
        throw new InvalidOperationException($"the blur placeholder did not fit in {MaxBlurLength} characters ({uri?.Length}).");
    }
}
