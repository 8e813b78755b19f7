using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ImageMagick;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// What libvips cannot do, done with ImageMagick: HEIC (HEVC) and JPEG XL input; ico, bmp, pdf and jxl output. NetVips images are the
/// currency: pixels cross as 8-bit interleaved bytes (ImportImagePixels/ExportImagePixels, no coder involved), resampling
/// stays in libvips, and ImageMagick only decodes or encodes, with the decoder or encoder always named, never guessed.
/// </summary>
/// <remarks>Signatures mention no Magick.NET type, so callers can reference this class without loading Magick.NET.</remarks>
internal static class MagickCodec
{
    /// <summary>ImageMagick could not be loaded, or its security policy could not be put in force.</summary>
    internal const string ImageMagickUnavailable = DiagnosticCodes.ImageMagickUnavailable;

    /// <summary>The Magick.NET package version, for cache keys of outputs ImageMagick writes (reading it loads nothing).</summary>
    internal const string MagickNetVersion = "15.1.0";

    /// <summary>
    /// The date written into every PDF as CreationDate and ModDate (1980-01-01, the ZIP epoch, as reproducible builds
    /// use): ImageMagick otherwise writes the time of the temporary file it encodes through, and the output would change
    /// on every build.
    /// </summary>
    internal static readonly DateTime PdfDate = new(1980, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Decodes a source in a format ImageMagick reads for KoalaPic (<see cref="FormatDescriptor.DecodedByImageMagick"/>).</summary>
    public static Image Decode(FormatDescriptor format, byte[] source, long maxPixels) => format.Format switch
    {
        ImageFormat.Heic => DecodeHeic(source, maxPixels),
        ImageFormat.Jxl => DecodeJxl(source, maxPixels),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format.Name, "ImageMagick reads no such format for KoalaPic"),
    };

    /// <summary>
    /// Decodes an HEIC (HEVC) image, which libvips cannot: 8-bit sRGB (or sRGB plus alpha), upright, with the embedded
    /// ICC profile as <c>icc-profile-data</c> for the caller to convert. The image is refused from its header when it has
    /// more than <paramref name="maxPixels"/> pixels.
    /// </summary>
    /// <remarks>
    /// Orientation: libheif applies the container's irot/imir transforms while decoding (the header size is already the
    /// upright size) and ImageMagick then ignores the EXIF Orientation tag, as the HEIF standard requires, so no
    /// AutoOrient is needed or wanted (it would rotate iPhone photos twice).
    /// </remarks>
    /// <exception cref="ImageConversionException">KP2002 (cannot decode), KP2003 (too many pixels) or KP0004.</exception>
    public static Image DecodeHeic(byte[] source, long maxPixels)
    {
        if (source.Length == 0)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "is empty");
        }

        // Checked here, before ImageMagick sees the bytes: its HEIC decoder would also read AVIF.
        if (!HeifBrands.IsHeic(source))
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: not a HEIC image (its 'ftyp' box names no HEVC brand)");
        }

        return Decode(source, maxPixels, "HEIC", HeicSettings(), autoOrient: false);
    }

    /// <summary>
    /// Decodes a JPEG XL image (libvips here has no libjxl): 8-bit sRGB (or sRGB plus alpha), upright, with the embedded
    /// ICC profile as <c>icc-profile-data</c> for the caller to convert; only the first frame of an animation. The image
    /// is refused from its header when it has more than <paramref name="maxPixels"/> pixels.
    /// </summary>
    /// <remarks>
    /// Orientation: ImageMagick's JXL reader keeps the codestream's orientation as the image's orientation instead of
    /// applying it, so it is applied here (as libvips' thumbnail applies EXIF orientation to the other formats).
    /// </remarks>
    /// <exception cref="ImageConversionException">KP2002 (cannot decode), KP2003 (too many pixels) or KP0004 (no JXL coder).</exception>
    public static Image DecodeJxl(byte[] source, long maxPixels)
    {
        if (source.Length == 0)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "is empty");
        }

        if (!FormatDescriptor.Jxl.Recognises!(source))
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: not a JPEG XL image (no JPEG XL codestream or container signature)");
        }

        // The decoder is named, never guessed from the bytes; only the first frame is read.
        var settings = new MagickReadSettings { Format = MagickFormat.Jxl, FrameIndex = 0, FrameCount = 1 };
        return Decode(source, maxPixels, "JXL", settings, autoOrient: true);
    }

    private static Image Decode(byte[] source, long maxPixels, string format, MagickReadSettings settings, bool autoOrient)
    {
        MagickRuntime.EnsureInitialized();
        try
        {
            var header = new MagickImageInfo(source, settings);
            long pixels = (long)header.Width * header.Height;
            if (pixels > maxPixels)
            {
                throw new ImageConversionException(
                    DiagnosticCodes.TooManyPixels,
                    string.Format(CultureInfo.InvariantCulture, "is {0}x{1} = {2:N0} pixels, over the limit of {3:N0} (KoalaPicMaxPixels)", header.Width, header.Height, pixels, maxPixels));
            }

            using var image = new MagickImage(source, settings);
            if (autoOrient)
            {
                image.AutoOrient();
            }

            bool alpha = image.HasAlpha;
            byte[] pixelBytes = image.GetPixels().ToByteArray(alpha ? PixelMapping.RGBA : PixelMapping.RGB)
                ?? throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: ImageMagick returned no pixels");
            byte[]? icc = image.GetColorProfile()?.ToByteArray();
            return ToVips(pixelBytes, (int)image.Width, (int)image.Height, alpha ? 4 : 3, icc);
        }
        catch (MagickMissingDelegateErrorException ex)
        {
            throw MissingCoder(format, "read", ex);
        }
        catch (MagickException ex)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: " + Describe(ex), ex);
        }
    }

    /// <summary>
    /// KP0004 for a coder this host's ImageMagick build lacks (Magick.NET's native libraries are built per platform, and
    /// a coder whose library was left out reports a missing delegate): the item fails, other formats are unaffected.
    /// </summary>
    internal static ImageConversionException MissingCoder(string format, string direction, MagickException inner) => new(
        ImageMagickUnavailable,
        $"cannot be converted: the ImageMagick of this machine ({NativeHost.Current.RuntimeIdentifier}, Magick.NET {MagickNetVersion}) has no {format} coder to {direction} it with ({Describe(inner)}). Use another Format for this item",
        inner);

    /// <summary>
    /// One .ico with a square entry for each size in <paramref name="sizes"/> that is not larger than the image's longer
    /// side (largest first; when none is, one entry at the longer side). Each entry is the image fitted inside the square
    /// by libvips and centred on transparency; entries of 256 px are stored as PNG, smaller ones as 32-bit BMP with alpha.
    /// </summary>
    /// <param name="image">8-bit sRGB or grey, with or without alpha.</param>
    /// <param name="sizes">Entry sizes, each 1..256 (validated by the caller).</param>
    /// <exception cref="ImageConversionException">KP2004 (cannot encode) or KP0004.</exception>
    public static byte[] EncodeIco(Image image, IReadOnlyList<int> sizes)
    {
        List<int> entries = IcoEntrySizes(Math.Max(image.Width, image.Height), sizes);
        var squares = new List<byte[]>(entries.Count);
        foreach (int size in entries)
        {
            squares.Add(FitOnTransparentSquare(image, size));
        }

        MagickRuntime.EnsureInitialized();
        return Encode("ico", () =>
        {
            using var collection = new MagickImageCollection();
            for (int i = 0; i < entries.Count; i++)
            {
                collection.Add(FromPixels(squares[i], entries[i], entries[i], alpha: true));
            }

            // Vista and later expect 256 px entries as PNG; ImageMagick by default does so only above 256.
            foreach (IMagickImage<byte> entry in collection)
            {
                entry.Settings.SetDefine("icon:png-compression-size", "256");
            }

            return collection.ToByteArray(MagickFormat.Ico);
        });
    }

    /// <summary>The largest square an .ico entry can describe.</summary>
    internal const int MaxIcoSize = 256;

    /// <summary>The sizes an .ico gets for an image whose longer side is <paramref name="longerSide"/>.</summary>
    internal static List<int> IcoEntrySizes(int longerSide, IReadOnlyList<int> sizes)
    {
        List<int> fitting = sizes.Where(s => s <= longerSide).Distinct().OrderByDescending(s => s).ToList();
        return fitting.Count > 0 ? fitting : new List<int> { Math.Min(longerSide, MaxIcoSize) };
    }

    /// <summary>
    /// A BMP: 24-bit with the classic 40-byte header (BMP3), which every reader accepts; an image with alpha is written
    /// as 32-bit BGRA with a V5 header whose masks declare the alpha channel, as browsers and Windows read it.
    /// </summary>
    /// <param name="image">8-bit sRGB or grey, with or without alpha (the caller flattens alpha by default).</param>
    /// <exception cref="ImageConversionException">KP2004 (cannot encode) or KP0004.</exception>
    public static byte[] EncodeBmp(Image image)
    {
        bool alpha = image.HasAlpha();
        byte[] pixels = InterleavedRgb(image, alpha);
        MagickRuntime.EnsureInitialized();
        return Encode("bmp", () =>
        {
            using MagickImage bmp = FromPixels(pixels, image.Width, image.Height, alpha);
            return bmp.ToByteArray(alpha ? MagickFormat.Bmp : MagickFormat.Bmp3);
        });
    }

    /// <summary>
    /// A one-page PDF exactly the size of the image at 72 dpi (MediaBox [0 0 width height], one pixel per point): the
    /// image Flate-compressed when <paramref name="lossless"/>, else JPEG at <paramref name="quality"/>. Fixed dates and
    /// title, and no document ID, so the same image gives the same bytes. (ImageMagick also embeds a small page thumbnail,
    /// made from the same pixels; its pdf:thumbnail option has no effect in this version.)
    /// </summary>
    /// <param name="image">8-bit sRGB or grey; alpha is kept as a soft mask when lossless (the caller flattens it for JPEG).</param>
    /// <exception cref="ImageConversionException">KP2004 (cannot encode) or KP0004.</exception>
    public static byte[] EncodePdf(Image image, int quality, bool lossless)
    {
        bool alpha = image.HasAlpha();
        byte[] pixels = InterleavedRgb(image, alpha);
        MagickRuntime.EnsureInitialized();
        return Encode("pdf", () =>
        {
            using MagickImage pdf = FromPixels(pixels, image.Width, image.Height, alpha);
            pdf.Density = new Density(72, 72, DensityUnit.PixelsPerInch);
            if (lossless)
            {
                pdf.Settings.Compression = CompressionMethod.Zip;
            }
            else
            {
                pdf.Settings.Compression = CompressionMethod.JPEG;
                pdf.Quality = (uint)Math.Max(1, Math.Min(100, quality));
            }

            string date = new DateTimeOffset(PdfDate).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            pdf.Settings.SetDefine("pdf:create-epoch", date);
            pdf.Settings.SetDefine("pdf:modify-epoch", date);
            // The title would otherwise be the name of ImageMagick's temporary file, different on every run.
            pdf.Settings.SetDefine("pdf:title", "");
            return pdf.ToByteArray(MagickFormat.Pdf);
        });
    }

    /// <summary>
    /// A JPEG XL image (still, one frame) through ImageMagick's libjxl coder: lossless when <paramref name="lossless"/>
    /// (libjxl distance 0; ImageMagick also makes quality 100 lossless), else ImageMagick's quality, which it turns into
    /// libjxl's distance with libjxl's own mapping (quality 90 is distance 1, "visually lossless"). No metadata.
    /// </summary>
    /// <param name="image">8-bit sRGB or grey, with or without alpha (kept).</param>
    /// <param name="effort">libjxl's effort, 1 (fastest) to 9; null for the descriptor's default (<see cref="FormatDescriptor.Jxl"/>).</param>
    /// <exception cref="ImageConversionException">KP2004 (cannot encode) or KP0004 (ImageMagick or its JXL coder is missing).</exception>
    public static byte[] EncodeJxl(Image image, int quality, bool lossless, int? effort = null)
    {
        int jxlEffort = effort ?? FormatDescriptor.Jxl.Effort!.Default;
        bool alpha = image.HasAlpha();
        byte[] pixels = InterleavedRgb(image, alpha);
        MagickRuntime.EnsureInitialized();
        try
        {
            return Encode("jxl", () =>
            {
                using MagickImage jxl = FromPixels(pixels, image.Width, image.Height, alpha);
                jxl.Quality = (uint)Math.Max(1, Math.Min(100, quality));
                jxl.Settings.SetDefine("jxl:effort", jxlEffort.ToString(CultureInfo.InvariantCulture));
                if (lossless)
                {
                    jxl.Settings.SetDefine("jxl:distance", "0");
                }

                return jxl.ToByteArray(MagickFormat.Jxl);
            });
        }
        catch (ImageConversionException ex) when (ex.InnerException is MagickMissingDelegateErrorException missing)
        {
            throw MissingCoder("JXL", "write", missing);
        }
    }

    private static MagickReadSettings HeicSettings()
    {
        // The decoder is named, never guessed from the bytes; only the primary image is read.
        var settings = new MagickReadSettings { Format = MagickFormat.Heic, FrameIndex = 0, FrameCount = 1 };
        settings.SetDefine("heic:primary-image", "true");
        return settings;
    }

    // Defines are set by their full names: Magick.NET's typed *Defines classes look the module up in its list of all
    // formats, which cannot be built while the policy refuses most modules.

    private static byte[] Encode(string format, Func<byte[]> encode)
    {
        try
        {
            return encode();
        }
        catch (MagickException ex)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotEncode, $"cannot be encoded as {format}: " + Describe(ex), ex);
        }
    }

    /// <summary>An ImageMagick image holding these interleaved 8-bit RGB or RGBA pixels, without metadata.</summary>
    private static MagickImage FromPixels(byte[] pixels, int width, int height, bool alpha)
    {
        var image = new MagickImage();
        try
        {
            image.ReadPixels(pixels, new PixelReadSettings((uint)width, (uint)height, StorageType.Char, alpha ? PixelMapping.RGBA : PixelMapping.RGB));
            image.Strip();
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>The image as 8-bit interleaved sRGB (plus alpha when <paramref name="alpha"/>): grey is expanded.</summary>
    private static byte[] InterleavedRgb(Image image, bool alpha)
    {
        Image? converted = null;
        try
        {
            Image current = image;
            if (image.Bands < 3)
            {
                converted = image.Colourspace(Enums.Interpretation.Srgb);
                current = converted;
            }

            if (current.Format != Enums.BandFormat.Uchar)
            {
                Image cast = current.Cast(Enums.BandFormat.Uchar);
                converted?.Dispose();
                converted = cast;
                current = cast;
            }

            int bands = alpha ? 4 : 3;
            if (current.Bands != bands)
            {
                throw new ImageConversionException(DiagnosticCodes.CannotEncode, $"cannot be encoded: expected {bands} bands, got {current.Bands}");
            }

            return current.WriteToMemory<byte>();
        }
        catch (VipsException ex)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotEncode, "cannot be encoded: " + ImageConverter.Describe(ex.Message), ex);
        }
        finally
        {
            converted?.Dispose();
        }
    }

    /// <summary>
    /// The image fitted inside size x size by libvips (alpha-aware resampling) and centred on a transparent square,
    /// as interleaved 8-bit RGBA.
    /// </summary>
    private static byte[] FitOnTransparentSquare(Image image, int size)
    {
        var owned = new List<Image>();
        try
        {
            Image current = image;
            Image Track(Image next)
            {
                owned.Add(next);
                return next;
            }

            if (current.Bands < 3)
            {
                current = Track(current.Colourspace(Enums.Interpretation.Srgb));
            }

            if (!current.HasAlpha())
            {
                current = Track(current.Bandjoin(255));
            }

            if (current.Width > size || current.Height > size)
            {
                current = Track(current.ThumbnailImage(size, height: size, size: Enums.Size.Down));
            }

            if (current.Width != size || current.Height != size)
            {
                current = Track(current.Gravity(Enums.CompassDirection.Centre, size, size, extend: Enums.Extend.Background, background: new double[] { 0, 0, 0, 0 }));
            }

            if (current.Format != Enums.BandFormat.Uchar)
            {
                current = Track(current.Cast(Enums.BandFormat.Uchar));
            }

            return current.WriteToMemory<byte>();
        }
        catch (VipsException ex)
        {
            throw new ImageConversionException(DiagnosticCodes.CannotEncode, "cannot be encoded as ico: " + ImageConverter.Describe(ex.Message), ex);
        }
        finally
        {
            foreach (Image intermediate in owned)
            {
                intermediate.Dispose();
            }
        }
    }

    private static Image ToVips(byte[] pixels, int width, int height, int bands, byte[]? icc)
    {
        using Image copy = Image.NewFromMemoryCopy<byte>(pixels, width, height, bands, Enums.BandFormat.Uchar);
        using Image srgb = copy.Copy(interpretation: Enums.Interpretation.Srgb);
        return srgb.Mutate(m =>
        {
            if (icc is { Length: > 0 })
            {
                m.Set(GValue.BlobType, "icc-profile-data", icc);
            }
        });
    }

    /// <summary>ImageMagick's reason on one line, without its "@ error/heic.c/…" source location.</summary>
    private static string Describe(MagickException ex)
    {
        string message = MagickRuntime.OneLine(ex);
        int at = message.LastIndexOf(" @ ", StringComparison.Ordinal);
        return at > 0 ? message.Substring(0, at).Trim() : message;
    }
}
