using System;
using System.Collections.Generic;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>An output format the engine can write; <see cref="ImageFormats.Of"/> gives every fact about it.</summary>
public enum ImageFormat
{
    Jpeg,
    Png,
    Webp,
    Avif,
    Gif,
    Tiff,
    Ico,
    Bmp,
    Pdf,
    Heic,
    Svg,
    Jxl,
}

/// <summary>What writes a format's bytes; each has its own switch on <see cref="ImageFormat"/> (see docs/how-it-works.md, "Adding a format").</summary>
public enum FormatEncoder
{
    /// <summary>libvips' own savers, in <c>ImageConverter.EncodeWithLibvips</c>.</summary>
    Libvips,

    /// <summary>Magick.NET (<c>MagickCodec</c>): the native ImageMagick library is downloaded for items that need it.</summary>
    ImageMagick,

    /// <summary>The system's libheif with an HEVC encoder (<c>HeicEncoder</c>).</summary>
    HeicEncoder,

    /// <summary>KoalaPic's own SVG writer (<c>SvgWriter</c>): a raster embedded in an SVG, or a sanitised SVG source.</summary>
    SvgWriter,
}

/// <summary>
/// Every fact about one output format, in one place: the engine, the task (through <see cref="ImageMagickNeed"/>) and
/// the manifest's MIME types read them from here. One static instance per format.
/// </summary>
public sealed class FormatDescriptor
{
    private FormatDescriptor(
        ImageFormat format,
        string name,
        string[] aliases,
        string mimeType,
        FormatEncoder encoder,
        bool carriesAlpha,
        bool canAnimate,
        bool supportsLossless,
        bool takesQuality,
        bool smartQualityApplies,
        bool warnsWhenLargerThanSource,
        bool decodedByImageMagick = false,
        int[]? qualityScale = null,
        MagickNames? magick = null,
        string? libvipsLoader = null,
        Func<byte[], bool>? recognises = null,
        FormatEffort? effort = null,
        double encodeCost = 1)
    {
        Format = format;
        Name = name;
        Aliases = aliases;
        MimeType = mimeType;
        Encoder = encoder;
        CarriesAlpha = carriesAlpha;
        CanAnimate = canAnimate;
        SupportsLossless = supportsLossless;
        TakesQuality = takesQuality;
        SmartQualityApplies = smartQualityApplies;
        WarnsWhenLargerThanSource = warnsWhenLargerThanSource;
        DecodedByImageMagick = decodedByImageMagick;
        QualityScale = qualityScale;
        Magick = magick;
        LibvipsLoader = libvipsLoader;
        Recognises = recognises;
        Effort = effort;
        EncodeCost = encodeCost;
        if (decodedByImageMagick && recognises == null)
        {
            throw new ArgumentException($"{name}: a format ImageMagick reads says how its bytes are recognised (libvips recognises only its own).", nameof(recognises));
        }
        if ((encoder == FormatEncoder.ImageMagick || decodedByImageMagick) && magick == null)
        {
            throw new ArgumentException($"{name}: a format ImageMagick reads or writes names its ImageMagick modules and coders (the security policy allows only those).", nameof(magick));
        }
    }

    public ImageFormat Format { get; }

    /// <summary>The canonical short name: the extension (without the dot), the <c>format</c> of the report and manifest, and part of the cache key.</summary>
    public string Name { get; }

    /// <summary>Other names <c>Format</c> accepts (and source extensions that mean this format).</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>The output's file extension: <c>.webp</c>.</summary>
    public string Extension => "." + Name;

    /// <summary>The IANA media type, as in <c>&lt;source type="image/avif"&gt;</c> and the manifest's <c>type</c>.</summary>
    public string MimeType { get; }

    public FormatEncoder Encoder { get; }

    /// <summary>Whether the format stores an alpha channel; others are flattened onto the background.</summary>
    public bool CarriesAlpha { get; }

    /// <summary>Whether the format can hold an animation (all frames, delays, loop count).</summary>
    public bool CanAnimate { get; }

    /// <summary>Whether Lossless means something (every format but jpg); elsewhere it is ignored with KP1020.</summary>
    public bool SupportsLossless { get; }

    /// <summary>Whether the encoder has a quality setting (the report's <c>quality</c> is null where it has none).</summary>
    public bool TakesQuality { get; }

    /// <summary>Whether SmartQuality applies: a lossy encoder with a quality knob whose output libvips can read back.</summary>
    /// <remarks>
    /// Not png: its quality is libimagequant's palette quality, where the palette size, not a continuous loss, decides
    /// the bytes, and dithered palettes score badly on structural metrics even when they look right. Not tiff (jpeg in
    /// tiff is rare on the web) nor heic (libvips cannot encode it).
    /// </remarks>
    public bool SmartQualityApplies { get; }

    /// <summary>
    /// Whether an output larger than its source is warned about (KP2013): formats meant to be small. Formats that are
    /// larger by nature (bmp, tiff, ico, pdf, svg wrapping a raster) are not.
    /// </summary>
    public bool WarnsWhenLargerThanSource { get; }

    /// <summary>Whether a source in this format is read by ImageMagick (libvips' libheif has no HEVC decoder, and NetVips.Native no libjxl).</summary>
    public bool DecodedByImageMagick { get; }

    /// <summary>
    /// The encoder quality that looks like JPEG at each of <see cref="Engine.QualityScale.JpegQualities"/> (calibrated
    /// by bench/quality-calibration); null where <c>Quality</c> goes to the encoder as it is.
    /// </summary>
    public IReadOnlyList<int>? QualityScale { get; }

    /// <summary>
    /// ImageMagick's names for the format, where ImageMagick reads or writes it: the security policy
    /// (<c>MagickRuntime.PolicyXml</c>) allows these modules and coders and no other, reading when
    /// <see cref="DecodedByImageMagick"/>, writing when <see cref="EncodedByImageMagick"/>.
    /// </summary>
    public MagickNames? Magick { get; }

    /// <summary>
    /// The libvips loader that reads a source in this format (its class name without <c>Buffer</c>/<c>Source</c>: only
    /// these loaders may read a source); null where libvips does not read it.
    /// </summary>
    public string? LibvipsLoader { get; }

    /// <summary>Recognises a source in this format by its first bytes, for a format ImageMagick reads (<see cref="DecodedByImageMagick"/>); null elsewhere (libvips recognises its own).</summary>
    public Func<byte[], bool>? Recognises { get; }

    /// <summary>The encoder's effort knob (the <c>Effort</c> metadata): its range and KoalaPic's default; null where the encoder has none.</summary>
    public FormatEffort? Effort { get; }

    /// <summary>
    /// CPU time per output pixel of its encode at the defaults, relative to JPEG's (1): the batch orders its work by
    /// output pixels × this (the costliest first). Measured by <c>bash bench/run.sh --only encodecost</c> (docs/performance.md).
    /// </summary>
    public double EncodeCost { get; }

    /// <summary>Whether KoalaPic reads a source in this format.</summary>
    public bool IsReadAsSource => LibvipsLoader != null || DecodedByImageMagick;

    /// <summary>Whether writing it needs the native ImageMagick library.</summary>
    public bool EncodedByImageMagick => Encoder == FormatEncoder.ImageMagick;

    public override string ToString() => Name;

    // Before the descriptors: static fields are set in the order they are written.
    /// <summary>JPEG XL's signatures (ISO/IEC 18181-2): a bare codestream starts FF 0A, the ISOBMFF container with its 12-byte 'JXL ' box.</summary>
    private static readonly byte[] JxlCodestream = { 0xFF, 0x0A };

    private static readonly byte[] JxlContainer = { 0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20, 0x0D, 0x0A, 0x87, 0x0A };

    public static readonly FormatDescriptor Jpeg = new(ImageFormat.Jpeg, "jpg", new[] { "jpeg" }, "image/jpeg", FormatEncoder.Libvips,
        carriesAlpha: false, canAnimate: false, supportsLossless: false, takesQuality: true, smartQualityApplies: true, warnsWhenLargerThanSource: true,
        libvipsLoader: "VipsForeignLoadJpeg",
        encodeCost: 1);

    public static readonly FormatDescriptor Png = new(ImageFormat.Png, "png", Array.Empty<string>(), "image/png", FormatEncoder.Libvips,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: true, smartQualityApplies: false, warnsWhenLargerThanSource: true,
        libvipsLoader: "VipsForeignLoadPng",
        effort: new FormatEffort(0, 9, 9, "libvips' pngsave compression: the zlib level, lossless either way; KoalaPic has always written level 9, and PNG outputs are small at the sizes the web uses"), encodeCost: 80);

    public static readonly FormatDescriptor Webp = new(ImageFormat.Webp, "webp", Array.Empty<string>(), "image/webp", FormatEncoder.Libvips,
        carriesAlpha: true, canAnimate: true, supportsLossless: true, takesQuality: true, smartQualityApplies: true, warnsWhenLargerThanSource: true,
        qualityScale: new[] { 23, 26, 30, 33, 36, 39, 43, 50, 58, 68, 77, 81, 96, 100, 100 }, libvipsLoader: "VipsForeignLoadWebp",
        effort: new FormatEffort(0, 6, 4, "libwebp's method; 4 is libwebp's and sharp's default"), encodeCost: 8);

    public static readonly FormatDescriptor Avif = new(ImageFormat.Avif, "avif", Array.Empty<string>(), "image/avif", FormatEncoder.Libvips,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: true, smartQualityApplies: true, warnsWhenLargerThanSource: true,
        qualityScale: new[] { 38, 41, 43, 44, 46, 47, 49, 52, 54, 57, 60, 68, 87, 91, 99 },
        libvipsLoader: "VipsForeignLoadHeif", // which also reads HEIC, were its libheif able to decode HEVC: HEIC is recognised first
        effort: new FormatEffort(0, 9, 4, "aom's speed is 9 minus the effort; 4 is libvips' and sharp's default"), encodeCost: 220);

    public static readonly FormatDescriptor Gif = new(ImageFormat.Gif, "gif", Array.Empty<string>(), "image/gif", FormatEncoder.Libvips,
        carriesAlpha: true, canAnimate: true, supportsLossless: true, takesQuality: false, smartQualityApplies: false, warnsWhenLargerThanSource: true,
        libvipsLoader: "VipsForeignLoadNsgif",
        encodeCost: 85);

    public static readonly FormatDescriptor Tiff = new(ImageFormat.Tiff, "tiff", new[] { "tif" }, "image/tiff", FormatEncoder.Libvips,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: true, smartQualityApplies: false, warnsWhenLargerThanSource: false,
        libvipsLoader: "VipsForeignLoadTiff",
        encodeCost: 0.8);

    public static readonly FormatDescriptor Ico = new(ImageFormat.Ico, "ico", Array.Empty<string>(), "image/x-icon", FormatEncoder.ImageMagick,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: false, smartQualityApplies: false, warnsWhenLargerThanSource: false,
        magick: new MagickNames(new[] { "ICON", "PNG" }, new[] { "ICO", "PNG32" }), // entries of 256 px and more are written as PNG32
        encodeCost: 14);

    public static readonly FormatDescriptor Bmp = new(ImageFormat.Bmp, "bmp", Array.Empty<string>(), "image/bmp", FormatEncoder.ImageMagick,
        carriesAlpha: false, canAnimate: false, supportsLossless: true, takesQuality: false, smartQualityApplies: false, warnsWhenLargerThanSource: false,
        magick: new MagickNames(new[] { "BMP" }, new[] { "BMP", "BMP3" }),
        encodeCost: 2.6);

    /// <remarks>Carries alpha only when lossless (Lossless or Quality=100): a JPEG inside a PDF cannot (see <c>ImageConverter.KeepsAlpha</c>).</remarks>
    public static readonly FormatDescriptor Pdf = new(ImageFormat.Pdf, "pdf", Array.Empty<string>(), "application/pdf", FormatEncoder.ImageMagick,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: true, smartQualityApplies: false, warnsWhenLargerThanSource: false,
        magick: new MagickNames(new[] { "PDF", "JPEG" }, new[] { "PDF", "JPEG" }), // its image streams are JPEG
        encodeCost: 3.2);

    public static readonly FormatDescriptor Heic = new(ImageFormat.Heic, "heic", new[] { "heif" }, "image/heic", FormatEncoder.HeicEncoder,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: true, smartQualityApplies: false, warnsWhenLargerThanSource: true,
        decodedByImageMagick: true, qualityScale: new[] { 29, 31, 32, 33, 34, 35, 37, 39, 41, 43, 46, 51, 66, 86, 100 },
        magick: new MagickNames(new[] { "HEIC" }, new[] { "HEIC" }), recognises: HeifBrands.IsHeic,
        effort: new FormatEffort(0, 9, 6, "x265's preset, ultrafast (0) to placebo (9); 6 is slow, libheif's own default"), encodeCost: 85);

    public static readonly FormatDescriptor Svg = new(ImageFormat.Svg, "svg", Array.Empty<string>(), "image/svg+xml", FormatEncoder.SvgWriter,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: true, smartQualityApplies: false, warnsWhenLargerThanSource: false,
        libvipsLoader: "VipsForeignLoadSvg",
        encodeCost: 1.1);

    /// <remarks>
    /// JPEG XL through ImageMagick's libjxl coder. Not SmartQuality: libvips (NetVips.Native) has no JXL loader to read
    /// the candidates back, and the search would run ImageMagick's single-threaded encoder up to seven times.
    /// </remarks>
    public static readonly FormatDescriptor Jxl = new(ImageFormat.Jxl, "jxl", new[] { "jpeg-xl" }, "image/jxl", FormatEncoder.ImageMagick,
        carriesAlpha: true, canAnimate: false, supportsLossless: true, takesQuality: true, smartQualityApplies: false, warnsWhenLargerThanSource: true,
        decodedByImageMagick: true, magick: new MagickNames(new[] { "JXL" }, new[] { "JXL" }),
        recognises: StartsWithAny(JxlCodestream, JxlContainer),
        qualityScale: new[] { 42, 48, 54, 58, 61, 63, 66, 68, 71, 74, 78, 81, 93, 97, 99 },
        effort: new FormatEffort(1, 9, 7, "libjxl's effort (ImageMagick's jxl:effort); 7 is libjxl's own default"),
        encodeCost: 40);

    private static Func<byte[], bool> StartsWithAny(params byte[][] signatures) =>
        source => signatures.Any(signature => source.AsSpan().StartsWith(signature));
}

/// <summary>ImageMagick's names for a format: the modules its coders live in, and the coders it is read or written with (its own, and those it writes its streams through).</summary>
public sealed class MagickNames
{
    public MagickNames(string[] modules, string[] coders)
    {
        Modules = modules;
        Coders = coders;
    }

    public IReadOnlyList<string> Modules { get; }

    public IReadOnlyList<string> Coders { get; }
}

/// <summary>
/// An encoder's effort knob: how long it works for fewer bytes (the <c>Effort</c> metadata). Higher is slower and, at
/// one Quality, usually smaller; Quality, not effort, is what decides how the output looks.
/// </summary>
/// <param name="Min">The lowest effort the encoder takes.</param>
/// <param name="Max">The highest.</param>
/// <param name="Default">What KoalaPic uses when an item sets no Effort (docs/performance.md says why for avif and webp).</param>
/// <param name="Meaning">What the number sets in the encoder, for the docs and for readers of this file.</param>
public sealed record FormatEffort(int Min, int Max, int Default, string Meaning)
{
    public bool Accepts(int effort) => effort >= Min && effort <= Max;

    /// <summary><c>0 to 9 (default 4)</c>.</summary>
    public string RangeText => string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0} to {1} (default {2})", Min, Max, Default);
}

/// <summary>The format descriptors: lookup by <see cref="ImageFormat"/> and by name.</summary>
public static class ImageFormats
{
    /// <summary>Every format, in the order <see cref="AcceptedValues"/> lists them.</summary>
    public static IReadOnlyList<FormatDescriptor> All { get; } = new[]
    {
        FormatDescriptor.Jpeg, FormatDescriptor.Png, FormatDescriptor.Webp, FormatDescriptor.Avif, FormatDescriptor.Gif, FormatDescriptor.Ico,
        FormatDescriptor.Bmp, FormatDescriptor.Tiff, FormatDescriptor.Pdf, FormatDescriptor.Heic, FormatDescriptor.Svg,
        FormatDescriptor.Jxl,
    };

    private static readonly Dictionary<ImageFormat, FormatDescriptor> ByFormat = All.ToDictionary(d => d.Format);

    private static readonly Dictionary<string, FormatDescriptor> ByName = All
        .SelectMany(d => new[] { d.Name }.Concat(d.Aliases).Select(name => (Name: name, Descriptor: d)))
        .ToDictionary(x => x.Name, x => x.Descriptor, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every name and alias <c>Format</c> accepts, for "did you mean" suggestions.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>The values <c>Format</c> accepts, as shown in diagnostics: <c>jpg (default), png, …; aliases jpeg, tif, heif</c>.</summary>
    public static string AcceptedValues { get; } =
        string.Join(", ", All.Select(d => d.Format == ConversionOptions.Default.Format ? d.Name + " (default)" : d.Name))
        + "; aliases " + string.Join(", ", All.SelectMany(d => d.Aliases));

    public static FormatDescriptor Of(ImageFormat format) =>
        ByFormat.TryGetValue(format, out FormatDescriptor? descriptor) ? descriptor : throw new ArgumentOutOfRangeException(nameof(format), format, null);

    public static bool TryParse(string value, out ImageFormat format)
    {
        bool found = ByName.TryGetValue(value.Trim(), out FormatDescriptor? descriptor);
        format = found ? descriptor!.Format : default;
        return found;
    }

    /// <summary>The format a name or file extension (with or without the dot) means, or null.</summary>
    public static FormatDescriptor? Find(string nameOrExtension) =>
        ByName.TryGetValue(nameOrExtension.Trim().TrimStart('.'), out FormatDescriptor? descriptor) ? descriptor : null;

    /// <summary>The canonical short name, as used in cache keys and logs.</summary>
    public static string Name(ImageFormat format) => Of(format).Name;

    public static string Extension(ImageFormat format) => Of(format).Extension;

    /// <summary>The names of the formats where <paramref name="fact"/> holds, as prose: <c>jpg, webp and avif</c>.</summary>
    public static string NamesWhere(Func<FormatDescriptor, bool> fact, string conjunction = "and") =>
        Prose(All.Where(fact).Select(d => d.Name).ToList(), conjunction);

    /// <summary><c>a</c>, <c>a and b</c>, <c>a, b and c</c>.</summary>
    internal static string Prose(IReadOnlyList<string> names, string conjunction) =>
        names.Count <= 1 ? string.Concat(names) : string.Join(", ", names.Take(names.Count - 1)) + " " + conjunction + " " + names[names.Count - 1];
}
