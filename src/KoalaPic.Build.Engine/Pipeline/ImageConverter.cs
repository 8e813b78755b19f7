using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>An encoded output image.</summary>
/// <param name="ChosenQuality">The quality smart quality chose, when it was used.</param>
/// <param name="Frames">Frames of an animated output; 1 for a still image.</param>
public sealed record EncodedImage(byte[] Bytes, int Width, int Height, int? ChosenQuality = null, int Frames = 1)
{
    /// <summary>The placeholder made from the same decoded pixels, when one was asked for.</summary>
    public ImagePlaceholder? Placeholder { get; init; }

    /// <summary>
    /// A raster source's width after EXIF orientation, read from its header; 0 for sources drawn at any width (SVG)
    /// and those whose width is known only once decoded (HEIC).
    /// </summary>
    public int SourceWidth { get; init; }
}

/// <summary>A conversion that failed for a reason the user can act on; <see cref="Code"/> is a KP code.</summary>
public sealed class ImageConversionException : Exception
{
    public ImageConversionException(string code, string message, Exception? inner = null) : base(message, inner) => Code = code;

    public string Code { get; }
}

/// <summary>
/// Decodes, resizes and encodes one image, in sharp's pipeline: shrink-on-load thumbnailing, EXIF orientation applied,
/// colour converted to sRGB, metadata stripped. libvips does the work; Magick.NET (ico, bmp, pdf, HEIC input), the
/// system's libheif (HEIC output) and the SVG writer only encode or decode at the edges. Several outputs of one source
/// come from one decode through <see cref="Decode"/>.
/// </summary>
public static partial class ImageConverter
{
    /// <summary>sharp's default <c>limitInputPixels</c>: 0x3FFF × 0x3FFF.</summary>
    public const long DefaultMaxPixels = 268_402_689;

    /// <summary>
    /// The libvips loader classes that may run, by the format they read. libvips picks the loader from the magic bytes,
    /// never the file name; every other loader is blocked (<see cref="VipsRuntime"/>).
    /// </summary>
    internal static readonly Dictionary<string, string> AllowedLoaders = ImageFormats.All
        .Where(f => f.LibvipsLoader != null)
        .ToDictionary(f => f.LibvipsLoader!, f => f.Name, StringComparer.Ordinal);

    /// <exception cref="ImageConversionException">The image cannot be read, is too large, or cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static EncodedImage Convert(byte[] source, ConversionOptions options, long maxPixels = DefaultMaxPixels, CancellationToken cancellationToken = default) =>
        ConvertWithPlaceholder(source, options, PlaceholderKind.None, maxPixels, cancellationToken);

    /// <summary><see cref="Convert"/>, and a placeholder made from the same decoded, resized pixels (<see cref="EncodedImage.Placeholder"/>).</summary>
    /// <param name="placeholder">The output's bytes are the same with or without one.</param>
    /// <exception cref="ImageConversionException">The image cannot be read, is too large, or cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static EncodedImage ConvertWithPlaceholder(byte[] source, ConversionOptions options, PlaceholderKind placeholder, long maxPixels = DefaultMaxPixels, CancellationToken cancellationToken = default)
    {
        // One output streams from the source as libvips decodes it: nothing is shared, so nothing is held in memory.
        using DecodedSource decoded = Decode(source, new[] { options }, maxPixels, cancellationToken);
        return decoded.Encode(options, placeholder, cancellationToken);
    }

    /// <summary>One output from a source opened by <see cref="Decode"/>: resized from its shared pixels when it has them.</summary>
    internal static EncodedImage EncodeVariant(DecodedSource decoded, ConversionOptions options, PlaceholderKind placeholder, long maxPixels, CancellationToken cancellationToken)
    {
        byte[] source = decoded.Source;

        // SVG to SVG stays a vector: a sanitised copy, resized by its root attributes, never rasterised, and never
        // parsed by librsvg (the sanitiser's own parser refuses entity declarations and reads no DTD).
        if (options.Format == ImageFormat.Svg && source.Length > 0 && Image.FindLoadBuffer(source) == "VipsForeignLoadSvgBuffer")
        {
            var (svg, width, height) = SvgWriter.Sanitize(source, options.Width, options.Height, options.Fit);
            return new EncodedImage(svg, width, height) { Placeholder = placeholder == PlaceholderKind.None ? null : SvgPlaceholder(svg, placeholder, options) };
        }

        SourceInfo info = Inspect(source, maxPixels, options);
        cancellationToken.ThrowIfCancellationRequested();

        using var scope = new ImageScope();
        try
        {
            // libvips is lazy: sizes are known before any pixel is made, so an enlarged or drawn-large image is refused
            // here, before a byte of it is allocated (the input check above only bounds what is decoded).
            Image image = scope.Add(SizeVariant(decoded, info, options, scope));
            CheckOutputPixels(image, maxPixels);
            image = scope.Add(ToSrgb8(image, NeedsColour(image, options)));
            image = Frames.Map(image, info.Frames, scope, frame => Fit(frame, options, animated: info.Frames > 1, scope));
            image = scope.Add(Flatten(image, options));
            CheckOutputPixels(image, maxPixels);
            if (cancellationToken.CanBeCanceled)
            {
                image.SetProgress(NoProgress.Instance, cancellationToken);
            }

            ImagePlaceholder? made = null;
            if (placeholder != PlaceholderKind.None)
            {
                // One decode feeds both: the output's pixels are held in memory (as smart quality and the Magick
                // encoders hold them anyway), the placeholder is made from them, and the encoder reads the same
                // pixels the lazy pipeline would have given it, so the output's bytes do not change.
                image = scope.Add(image.CopyMemory());
                made = Placeholders.Compute(image, placeholder, options.Background);
            }

            // libvips evaluates lazily: decode errors of truncated files surface during the save.
            var (bytes, chosenQuality) = Encode(image, options);
            return new EncodedImage(bytes, image.Width, Frames.PageHeight(image), chosenQuality, info.Frames) { Placeholder = made, SourceWidth = info.Kind == SourceKind.Raster ? info.Width : 0 };
        }
        catch (VipsException ex)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw IsEncoderError(ex.Message)
                ? new ImageConversionException(DiagnosticCodes.CannotEncode, $"cannot be encoded as {ImageFormats.Name(options.Format)}: " + Describe(ex.Message), ex)
                : new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: " + Describe(ex.Message), ex);
        }
    }

    /// <summary>
    /// SVG kept as SVG is never rasterised for its output; for a placeholder, the sanitised copy (no entities, no
    /// external references) is rendered small.
    /// </summary>
    private static ImagePlaceholder SvgPlaceholder(byte[] sanitizedSvg, PlaceholderKind placeholder, ConversionOptions options)
    {
        try
        {
            using Image small = Image.ThumbnailBuffer(sanitizedSvg, 64, optionString: "[fail_on=error]", height: 64, size: Enums.Size.Both, failOn: Enums.FailOn.Error);
            return Placeholders.Compute(small, placeholder, options.Background);
        }
        catch (VipsException ex)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be rendered for its placeholder: " + Describe(ex.Message), ex);
        }
    }

    private enum SourceKind
    {
        Raster,
        Svg,

        /// <summary>A format ImageMagick reads (<see cref="SourceInfo.ReadByImageMagick"/>).</summary>
        ImageMagick,
    }

    /// <param name="Width">Width after EXIF orientation (0 for a source ImageMagick reads, known only once decoded).</param>
    /// <param name="Frames">Frames to convert: all of an animation when the output can animate, else 1.</param>
    /// <param name="ReadByImageMagick">The format of a source ImageMagick reads; null for libvips' own.</param>
    /// <param name="Loader">The libvips loader class that reads it ("VipsForeignLoadJpegBuffer"); null for a source ImageMagick reads.</param>
    private sealed record SourceInfo(SourceKind Kind, int Width, int Height, int Frames, bool HasColourProfile, FormatDescriptor? ReadByImageMagick = null, string? Loader = null);

    /// <summary>
    /// Identifies the format from the magic bytes among those KoalaPic reads, and refuses decompression bombs from the
    /// header alone, before any pixel is decoded.
    /// </summary>
    private static SourceInfo Inspect(byte[] source, long maxPixels, ConversionOptions options)
    {
        if (source.Length == 0)
        {
            throw SourceSignature.Unrecognised(source);
        }

        // Magick.NET reads what NetVips.Native cannot (its libheif has no HEVC decoder, though its heif loader would
        // recognise HEIC; it has no libjxl): those formats are recognised first, by their descriptors.
        if (ImageFormats.All.FirstOrDefault(f => f.DecodedByImageMagick && f.Recognises!(source)) is FormatDescriptor readByImageMagick)
        {
            return new SourceInfo(SourceKind.ImageMagick, 0, 0, 1, false, readByImageMagick);
        }

        string? loader = Image.FindLoadBuffer(source);
        if (string.IsNullOrEmpty(loader) || !loader!.EndsWith("Buffer", StringComparison.Ordinal)
            || !AllowedLoaders.ContainsKey(loader.Substring(0, loader.Length - "Buffer".Length)))
        {
            throw SourceSignature.Unrecognised(source);
        }

        try
        {
            using var header = Image.NewFromBuffer(source, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            int pages = header.Contains("n-pages") ? Math.Max(1, (int)header.Get("n-pages")) : 1;
            int frames = pages > 1 && ImageFormats.Of(options.Format).CanAnimate ? pages : 1;
            int pageHeight = header.PageHeight > 0 && header.PageHeight < header.Height ? header.PageHeight : header.Height;
            if ((long)header.Width * pageHeight * frames > maxPixels)
            {
                throw new ImageConversionException(DiagnosticCodes.TooManyPixels, "is " + PixelCount(header.Width, pageHeight, frames, maxPixels));
            }

            var kind = loader.StartsWith("VipsForeignLoadSvg", StringComparison.Ordinal) ? SourceKind.Svg : SourceKind.Raster;
            var (width, height) = OrientedSize(header);
            return new SourceInfo(kind, width, height, frames, header.Bands >= 3 && header.Contains("icc-profile-data"), Loader: loader);
        }
        catch (VipsException ex)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: " + Describe(ex.Message), ex);
        }
    }

    /// <summary>
    /// One frame's size as the pipeline sees it, from the header alone: EXIF orientations 5 to 8 turn the image a
    /// quarter, which swaps width and height (thumbnail applies the orientation).
    /// </summary>
    internal static (int Width, int Height) OrientedSize(Image header)
    {
        int pageHeight = header.PageHeight > 0 && header.PageHeight < header.Height ? header.PageHeight : header.Height;
        bool swapped = header.Contains("orientation") && (int)header.Get("orientation") is >= 5 and <= 8;
        return swapped ? (pageHeight, header.Width) : (header.Width, pageHeight);
    }

    /// <summary>KP2012 when the image about to be made (all frames of an animation) has more pixels than the limit.</summary>
    private static void CheckOutputPixels(Image image, long maxPixels)
    {
        int pageHeight = Frames.PageHeight(image);
        int frames = Math.Max(1, image.Height / Math.Max(1, pageHeight));
        if ((long)image.Width * pageHeight * frames > maxPixels)
        {
            throw new ImageConversionException(
                DiagnosticCodes.OutputTooManyPixels,
                "would become " + PixelCount(image.Width, pageHeight, frames, maxPixels) + "; use a smaller Width/Height, or Enlarge=\"false\"");
        }
    }

    /// <summary>"4000x3000 x 12 frames = 144,000,000 pixels, over the limit of … (KoalaPicMaxPixels)".</summary>
    private static string PixelCount(int width, int pageHeight, int frames, long maxPixels) =>
        string.Format(
            CultureInfo.InvariantCulture,
            "{0}x{1}{2} = {3:N0} pixels, over the limit of {4:N0} (KoalaPicMaxPixels)",
            width,
            pageHeight,
            frames > 1 ? string.Format(CultureInfo.InvariantCulture, " x {0} frames", frames) : "",
            (long)width * pageHeight * frames,
            maxPixels);

    /// <summary>Decodes at the scaled size: shrink-on-load for JPEG/WebP, rendering at that size for SVG.</summary>
    private static Image Load(byte[] source, SourceInfo info, ConversionOptions options, long maxPixels, ImageScope scope)
    {
        if (info.ReadByImageMagick != null)
        {
            return ResizeMagickDecoded(scope.Add(DecodeWithMagick(source, info, maxPixels)), options);
        }

        var (width, height, thumbnailSize) = ResizePlan.ThumbnailBounds(info.Width, info.Height, options, vector: info.Kind == SourceKind.Svg);
        return LoadAt(source, info, width, height, thumbnailSize);
    }

    /// <summary>A format libvips here cannot read (HEIC, JPEG XL), decoded whole by ImageMagick.</summary>
    private static Image DecodeWithMagick(byte[] source, SourceInfo info, long maxPixels) =>
        // ImageMagick's decoders check the pixel limit themselves, from the header, once they know the size.
        MagickCodec.Decode(info.ReadByImageMagick!, source, maxPixels);

    private static Image ResizeMagickDecoded(Image decoded, ConversionOptions options)
    {
        var (w, h, size) = ResizePlan.ThumbnailBounds(decoded.Width, decoded.Height, options, vector: false);
        return decoded.ThumbnailImage(
            w,
            height: h,
            size: size,
            outputProfile: decoded.Bands >= 3 && decoded.Contains("icc-profile-data") ? "srgb" : null);
    }

    /// <summary>The source thumbnailed into a width × height box: lazy, so only the header is read until pixels are asked for.</summary>
    private static Image LoadAt(byte[] source, SourceInfo info, int width, int height, Enums.Size thumbnailSize)
    {
        return Image.ThumbnailBuffer(
            source,
            width,
            // vips_thumbnail_buffer does not hand its fail_on to the loader (only the file variant does), so
            // without this option string truncated and corrupt images decode "successfully" as grey.
            // "error" rather than sharp's "warning": truncation still fails, but benign libjpeg warnings
            // (extraneous bytes before a marker), which browsers ignore, do not. n=-1 loads every frame of an
            // animation that the output format keeps.
            optionString: info.Frames > 1 ? "[n=-1,fail_on=error]" : "[fail_on=error]",
            height: height,
            size: thumbnailSize,
            outputProfile: OutputProfile(info),
            failOn: Enums.FailOn.Error);
    }

    /// <summary>
    /// <paramref name="decoded"/> (the source as <see cref="LoadAt"/> loads it, held in memory) thumbnailed into the
    /// same box with the same colour transform and rotation: the pixels <see cref="LoadAt"/> gives when it loads the
    /// source the same way.
    /// </summary>
    private static Image Thumbnail(Image decoded, SourceInfo info, int width, int height, Enums.Size thumbnailSize) =>
        decoded.ThumbnailImage(width, height: height, size: thumbnailSize, outputProfile: OutputProfile(info));

    /// <summary>
    /// The embedded profile is stripped on save, so its colours must be converted to sRGB first (Display P3 phone
    /// photos, Adobe RGB, ProPhoto, CMYK). Grey profiles are left alone so that grey stays one band; images without a
    /// profile are sRGB already and skip the transform.
    /// </summary>
    private static string? OutputProfile(SourceInfo info) => info.HasColourProfile ? "srgb" : null;

    /// <summary>Grey stays grey unless a coloured background must be painted into it.</summary>
    private static bool NeedsColour(Image image, ConversionOptions options)
    {
        Colour bg = options.Background;
        bool greyBackground = bg.R == bg.G && bg.G == bg.B;
        bool paintsBackground = options.Fit == FitMode.Contain || (image.HasAlpha() && !KeepsAlpha(options));
        return !greyBackground && paintsBackground;
    }

    /// <summary>8-bit sRGB, or 8-bit grey for grey sources (unless <paramref name="forceColour"/>).</summary>
    private static Image ToSrgb8(Image image, bool forceColour)
    {
        bool grey = !forceColour && image.Interpretation is Enums.Interpretation.Bw or Enums.Interpretation.Grey16;
        var target = grey ? Enums.Interpretation.Bw : Enums.Interpretation.Srgb;
        Image current = image;
        if (current.Interpretation != target || current.Format != Enums.BandFormat.Uchar)
        {
            current = current.Colourspace(target);
            if (current.Format != Enums.BandFormat.Uchar)
            {
                current = current.Cast(Enums.BandFormat.Uchar);
            }
        }

        return current;
    }

    /// <summary>Cover crops to the box; contain pads to it with the background.</summary>
    /// <param name="animated">Frames of an animation are all cropped at the centre, so the crop does not jump between frames.</param>
    private static Image Fit(Image frame, ConversionOptions options, bool animated, ImageScope scope)
    {
        var (boxWidth, boxHeight) = ResizePlan.Box(frame.Width, frame.Height, options);
        if (options.Fit == FitMode.Cover && (frame.Width > boxWidth || frame.Height > boxHeight))
        {
            int w = Math.Min(boxWidth, frame.Width);
            int h = Math.Min(boxHeight, frame.Height);
            return options.Position == CropPosition.Center || animated
                ? frame.Crop((frame.Width - w) / 2, (frame.Height - h) / 2, w, h)
                // smartcrop reads its input several times, which a sequentially decoded image does not allow.
                : scope.Add(frame.CopyMemory()).Smartcrop(w, h, interesting: options.Position == CropPosition.Attention ? Enums.Interesting.Attention : Enums.Interesting.Entropy);
        }

        if (options.Fit == FitMode.Contain && (frame.Width < boxWidth || frame.Height < boxHeight))
        {
            Image padded = frame;
            Colour bg = options.Background;
            bool transparentBars = bg.A < 255 && KeepsAlpha(options);
            if (transparentBars && !padded.HasAlpha())
            {
                padded = scope.Add(padded.Bandjoin(255));
            }

            double[] colour = padded.Bands switch
            {
                1 => new double[] { bg.R },
                2 => new double[] { bg.R, transparentBars ? bg.A : 255 },
                3 => new double[] { bg.R, bg.G, bg.B },
                _ => new double[] { bg.R, bg.G, bg.B, transparentBars ? bg.A : 255 },
            };
            return padded.Gravity(Enums.CompassDirection.Centre, boxWidth, boxHeight, extend: Enums.Extend.Background, background: colour);
        }

        return frame;
    }

    /// <summary>Whether the output keeps transparency: the format carries alpha and is not lossy JPEG inside a PDF.</summary>
    private static bool KeepsAlpha(ConversionOptions options) =>
        ImageFormats.Of(options.Format).CarriesAlpha && !(options.Format == ImageFormat.Pdf && !PdfIsLossless(options));

    private static bool PdfIsLossless(ConversionOptions options) => options.Lossless || options.Quality == 100;

    /// <summary>Transparency flattened onto the background where the output cannot carry it.</summary>
    private static Image Flatten(Image image, ConversionOptions options)
    {
        if (!image.HasAlpha() || KeepsAlpha(options))
        {
            return image;
        }

        Colour bg = options.Background;
        return image.Flatten(image.Bands <= 2 ? new double[] { bg.R } : new double[] { bg.R, bg.G, bg.B });
    }

    private static (byte[] Bytes, int? ChosenQuality) Encode(Image image, ConversionOptions options)
    {
        FormatDescriptor format = ImageFormats.Of(options.Format);
        if (format.Encoder != FormatEncoder.Libvips)
        {
            // These encoders read the pixels more than once (an icon resamples them per size), which a sequentially
            // decoded image does not allow; at the output size, a copy in memory is cheap.
            using Image pixels = image.CopyMemory();
            return (format.Encoder switch
            {
                FormatEncoder.ImageMagick => EncodeWithImageMagick(pixels, options),
                FormatEncoder.HeicEncoder => HeicEncoder.Encode(pixels, QualityScale.EncoderQuality(options.Format, options.Quality), options.Lossless, options.EncoderEffort),
                _ => SvgWriter.EmbedRaster(pixels, options.Quality),
            }, null);
        }

        if (options.SmartQuality != SmartQualityLevel.None && format.SmartQualityApplies)
        {
            // Held in memory: every try encodes it again, which must not decode and resize the source again.
            using Image reference = image.CopyMemory();
            SmartQualityResult found = SmartQuality.Search(
                reference,
                options.Format,
                options.SmartQuality,
                quality => EncodeWithLibvips(reference, options, quality),
                bytes => Image.NewFromBuffer(bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error));
            return (found.Bytes, found.Quality);
        }

        // Quality means "looks like JPEG at this quality"; smart quality above searches the encoder's own scale.
        return (EncodeWithLibvips(image, options, QualityScale.EncoderQuality(options.Format, options.Quality)), null);
    }

    private static byte[] EncodeWithImageMagick(Image pixels, ConversionOptions options) => options.Format switch
    {
        ImageFormat.Ico => MagickCodec.EncodeIco(pixels, options.IcoSizes),
        ImageFormat.Bmp => MagickCodec.EncodeBmp(pixels),
        ImageFormat.Pdf => MagickCodec.EncodePdf(pixels, options.Quality, PdfIsLossless(options)),
        ImageFormat.Jxl => MagickCodec.EncodeJxl(pixels, QualityScale.EncoderQuality(options.Format, options.Quality), options.Lossless, options.EncoderEffort),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Format, null),
    };

    /// <summary>Encodes with libvips at <paramref name="q"/> on the encoder's own scale (already mapped by
    /// <see cref="QualityScale"/>); bench/quality-calibration calls it to measure those scales.</summary>
    internal static byte[] EncodeWithLibvips(Image image, ConversionOptions options, int q)
    {
        var keep = options.KeepMetadata ? Enums.ForeignKeep.All : Enums.ForeignKeep.None;

        // The Effort metadata, or the format's default (FormatDescriptor.Effort); pngsave's is its zlib compression.
        int effort = options.EncoderEffort ?? 0;
        switch (options.Format)
        {
            case ImageFormat.Jpeg:
                return image.JpegsaveBuffer(q: q, optimizeCoding: true, keep: keep);
            case ImageFormat.Png:
                // Below 100, quality means palette quantisation (libimagequant), as in sharp; 100 or Lossless is truecolour.
                return q < 100 && !options.Lossless
                    ? image.PngsaveBuffer(compression: effort, palette: true, q: q, keep: keep)
                    : image.PngsaveBuffer(compression: effort, keep: keep);
            case ImageFormat.Webp:
                return options.Lossless
                    ? image.WebpsaveBuffer(lossless: true, effort: effort, keep: keep)
                    : image.WebpsaveBuffer(q: q, effort: effort, keep: keep);
            case ImageFormat.Avif:
                return options.Lossless
                    ? image.HeifsaveBuffer(lossless: true, compression: Enums.ForeignHeifCompression.Av1, effort: effort, keep: keep)
                    : image.HeifsaveBuffer(q: q, compression: Enums.ForeignHeifCompression.Av1, effort: effort, keep: keep);
            case ImageFormat.Gif:
                return image.GifsaveBuffer(keep: keep);
            case ImageFormat.Tiff:
                // JPEG-in-TIFF cannot carry alpha; such images, quality 100 and Lossless use lossless deflate.
                return image.HasAlpha() || q == 100 || options.Lossless
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
