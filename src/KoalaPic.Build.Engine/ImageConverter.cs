using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>An encoded output image.</summary>
public sealed record EncodedImage(byte[] Bytes, int Width, int Height);

/// <summary>A conversion that failed for a reason the user can act on; <see cref="Code"/> is a KP code.</summary>
public sealed class ImageConversionException : Exception
{
    public ImageConversionException(string code, string message, Exception? inner = null) : base(message, inner) => Code = code;

    public string Code { get; }
}

/// <summary>
/// Decodes, resizes and encodes one image with libvips, in sharp's pipeline: shrink-on-load thumbnailing,
/// EXIF orientation applied, colour converted to sRGB, metadata stripped.
/// </summary>
public static class ImageConverter
{
    /// <summary>sharp's default <c>limitInputPixels</c>: 0x3FFF × 0x3FFF.</summary>
    public const long DefaultMaxPixels = 268_402_689;

    // "No limit" for the side that is not constrained, as sharp passes it to vips_thumbnail.
    private const int Unbounded = 10_000_000;

    /// <summary>
    /// The libvips loader classes that may run, by the format they read. libvips picks the loader from the magic bytes,
    /// never the file name; every other loader is blocked (<see cref="VipsRuntime"/>).
    /// </summary>
    internal static readonly Dictionary<string, string> AllowedLoaders = new(StringComparer.Ordinal)
    {
        ["VipsForeignLoadJpeg"] = "JPEG",
        ["VipsForeignLoadPng"] = "PNG",
        ["VipsForeignLoadWebp"] = "WebP",
        ["VipsForeignLoadNsgif"] = "GIF",
        ["VipsForeignLoadTiff"] = "TIFF",
        ["VipsForeignLoadHeif"] = "AVIF",
        ["VipsForeignLoadSvg"] = "SVG",
    };

    private static readonly double[] White = { 255, 255, 255 };

    /// <exception cref="ImageConversionException">The image cannot be read, is too large, or cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static EncodedImage Convert(byte[] source, ConversionOptions options, long maxPixels = DefaultMaxPixels, CancellationToken cancellationToken = default)
    {
        VipsRuntime.EnsureInitialized();
        bool hasColourProfile = CheckHeader(source, maxPixels);
        cancellationToken.ThrowIfCancellationRequested();

        Image? thumbnail = null;
        Image? ready = null;
        try
        {
            try
            {
                thumbnail = Image.ThumbnailBuffer(
                    source,
                    options.Width ?? Unbounded,
                    // vips_thumbnail_buffer does not hand its fail_on to the loader (only the file variant does), so
                    // without this option string truncated and corrupt images decode "successfully" as grey.
                    // "error" rather than sharp's "warning": truncation still fails, but benign libjpeg warnings
                    // (extraneous bytes before a marker), which browsers ignore, do not.
                    optionString: "[fail_on=error]",
                    height: options.Height ?? Unbounded,
                    size: Enums.Size.Down,
                    // The embedded profile is stripped on save, so its colours must be converted to sRGB first
                    // (Display P3 phone photos, Adobe RGB, ProPhoto, CMYK). Grey profiles are left alone so that grey
                    // stays one band; images without a profile are sRGB already and skip the transform.
                    outputProfile: hasColourProfile ? "srgb" : null,
                    failOn: Enums.FailOn.Error);
                ready = ToOutputColour(thumbnail, options.Format);
                if (cancellationToken.CanBeCanceled)
                {
                    ready.SetProgress(NoProgress.Instance, cancellationToken);
                }

                // libvips evaluates lazily: decode errors of truncated files surface during the save.
                byte[] bytes = Encode(ready, options);
                return new EncodedImage(bytes, ready.Width, ready.Height);
            }
            catch (VipsException ex)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw IsEncoderError(ex.Message)
                    ? new ImageConversionException(DiagnosticCodes.CannotEncode, $"cannot be encoded as {ImageFormats.Name(options.Format)}: " + Describe(ex.Message), ex)
                    : new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: " + Describe(ex.Message), ex);
            }
        }
        finally
        {
            if (!ReferenceEquals(ready, thumbnail))
            {
                ready?.Dispose();
            }

            thumbnail?.Dispose();
        }
    }

    /// <summary>Refuses files that are not one of the supported formats, and decompression bombs, from the header alone.</summary>
    /// <returns>Whether the image embeds an ICC profile of a colour (not grey) space.</returns>
    private static bool CheckHeader(byte[] source, long maxPixels)
    {
        string? loader = source.Length == 0 ? null : Image.FindLoadBuffer(source);
        if (string.IsNullOrEmpty(loader) || !loader!.EndsWith("Buffer", StringComparison.Ordinal)
            || !AllowedLoaders.ContainsKey(loader.Substring(0, loader.Length - "Buffer".Length)))
        {
            throw SourceSignature.Unrecognised(source);
        }

        try
        {
            using var header = Image.NewFromBuffer(source, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            long pixels = (long)header.Width * header.Height;
            if (pixels > maxPixels)
            {
                throw new ImageConversionException(
                    DiagnosticCodes.TooManyPixels,
                    string.Format(
                        System.Globalization.CultureInfo.InvariantCulture,
                        "is {0}x{1} = {2:N0} pixels, over the limit of {3:N0} (KoalaPicMaxPixels)",
                        header.Width,
                        header.Height,
                        pixels,
                        maxPixels));
            }

            return header.Bands >= 3 && header.Contains("icc-profile-data");
        }
        catch (VipsException ex)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: " + Describe(ex.Message), ex);
        }
    }

    /// <summary>8-bit sRGB (or 8-bit grey), with alpha flattened onto white for formats that cannot carry it.</summary>
    private static Image ToOutputColour(Image image, ImageFormat format)
    {
        Image current = image;
        bool grey = image.Interpretation is Enums.Interpretation.Bw or Enums.Interpretation.Grey16;
        var target = grey ? Enums.Interpretation.Bw : Enums.Interpretation.Srgb;
        if (current.Interpretation != target || current.Format != Enums.BandFormat.Uchar)
        {
            current = Replace(current, image, current.Colourspace(target));
            if (current.Format != Enums.BandFormat.Uchar)
            {
                current = Replace(current, image, current.Cast(Enums.BandFormat.Uchar));
            }
        }

        if (format == ImageFormat.Jpeg && current.HasAlpha())
        {
            double[] background = grey ? new double[] { 255 } : White;
            current = Replace(current, image, current.Flatten(background));
        }

        return current;
    }

    private static Image Replace(Image current, Image original, Image next)
    {
        if (!ReferenceEquals(current, original))
        {
            current.Dispose();
        }

        return next;
    }

    private static byte[] Encode(Image image, ConversionOptions options)
    {
        int q = options.Quality;
        var keep = Enums.ForeignKeep.None;
        switch (options.Format)
        {
            case ImageFormat.Jpeg:
                return image.JpegsaveBuffer(q: q, optimizeCoding: true, keep: keep);
            case ImageFormat.Png:
                // Below 100, quality means palette quantisation (libimagequant), as in sharp; 100 is lossless truecolour.
                return q < 100
                    ? image.PngsaveBuffer(compression: 9, palette: true, q: q, keep: keep)
                    : image.PngsaveBuffer(compression: 9, keep: keep);
            case ImageFormat.Webp:
                return image.WebpsaveBuffer(q: q, effort: 4, keep: keep);
            case ImageFormat.Avif:
                return image.HeifsaveBuffer(q: q, compression: Enums.ForeignHeifCompression.Av1, effort: 4, keep: keep);
            case ImageFormat.Gif:
                return image.GifsaveBuffer(keep: keep);
            case ImageFormat.Tiff:
                // JPEG-in-TIFF cannot carry alpha; such images, and quality 100, use lossless deflate.
                return image.HasAlpha() || q == 100
                    ? image.TiffsaveBuffer(compression: Enums.ForeignTiffCompression.Deflate, predictor: Enums.ForeignTiffPredictor.Horizontal, keep: keep)
                    : image.TiffsaveBuffer(compression: Enums.ForeignTiffCompression.Jpeg, q: q, keep: keep);
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Format, null);
        }
    }

    /// <summary>
    /// Decoding is lazy, so decode errors also surface while saving; an error is the encoder's only when libvips names
    /// a saver ("webpsave: …", "VipsForeignSaveHeif: …") and no loader.
    /// </summary>
    private static bool IsEncoderError(string message)
    {
        var lines = ReasonLines(message).ToList();
        bool saver = lines.Any(l => l.IndexOf("save", StringComparison.OrdinalIgnoreCase) >= 0);
        bool loader = lines.Any(l => l.IndexOf("load", StringComparison.OrdinalIgnoreCase) >= 0
                                     || l.StartsWith("VipsJpeg", StringComparison.Ordinal)
                                     || l.IndexOf("premature", StringComparison.OrdinalIgnoreCase) >= 0
                                     || l.IndexOf("truncated", StringComparison.OrdinalIgnoreCase) >= 0);
        return saver && !loader;
    }

    /// <summary>
    /// libvips' error text without its "unable to call …" wrapper lines, on one line: the loader's own words
    /// ("VipsJpeg: Premature end of input file") are what tells the user what is wrong with the file.
    /// </summary>
    internal static string Describe(string message)
    {
        var lines = ReasonLines(message).Distinct().Take(3).ToList();
        return lines.Count > 0 ? string.Join("; ", lines) : message.Trim();
    }

    /// <summary>The lines of a libvips error that carry a reason, without the "unable to call …" wrappers.</summary>
    private static IEnumerable<string> ReasonLines(string message) =>
        message.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith("unable to call", StringComparison.Ordinal));

    private sealed class NoProgress : IProgress<int>
    {
        public static readonly NoProgress Instance = new();

        public void Report(int value) { }
    }
}
