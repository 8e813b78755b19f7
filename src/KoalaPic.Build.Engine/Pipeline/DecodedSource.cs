using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// A source opened once for all its outputs (<see cref="ImageConverter.Decode"/>). When two or more outputs load its
/// pixels the same way (shrunk on load by the same factor: JPEG by 1/2–1/8, WebP and SVG to their scale, the rest
/// whole), those pixels are decoded once for them and held in memory; each of them is thumbnailed from them in one
/// pass, as it would be from the source, never from another output: its bytes are those it has when made alone.
/// <see cref="Encode"/> may run on several threads at once. Dispose it when its last output is encoded: it holds the
/// pixels until then.
/// </summary>
public sealed class DecodedSource : IDisposable
{
    // By whether the outputs keep an animation's frames (an animated GIF made into webp and jpg is decoded twice, once
    // with every frame and once with the first) and by how they load the source (ImageConverter.LoadFactor).
    private readonly Dictionary<(bool Animated, double Load), Shared> shared = new();

    internal DecodedSource(byte[] source, long maxPixels)
    {
        Source = source;
        MaxPixels = maxPixels;
    }

    internal byte[] Source { get; }

    internal long MaxPixels { get; }

    /// <summary>How many times the pixels were decoded for sharing: 0 when each output streams from the source itself (one output).</summary>
    public int Decodes => shared.Count;

    /// <summary>Width × height of the decoded pixels held, summed (0 when none are held).</summary>
    public long PixelsHeld => shared.Values.Sum(s => s.Image is { } image ? (long)image.Width * image.Height : 0);

    /// <summary>Encodes one output; <paramref name="options"/> need not be among those given to <see cref="ImageConverter.Decode"/>, but then it decodes on its own.</summary>
    /// <exception cref="ImageConversionException">The image cannot be read, is too large, or cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public EncodedImage Encode(ConversionOptions options, PlaceholderKind placeholder = PlaceholderKind.None, CancellationToken cancellationToken = default) =>
        ImageConverter.EncodeVariant(this, options, placeholder, MaxPixels, cancellationToken);

    internal void Share(bool animated, double load, Image? image, ImageConversionException? failure) => shared[(animated, load)] = new Shared(image, failure);

    /// <summary>
    /// The shared pixels for outputs that keep (or drop) an animation's frames and load the source by <paramref name="load"/>,
    /// or null when such an output decodes on its own.
    /// </summary>
    /// <exception cref="ImageConversionException">Decoding them failed: every output that shares them fails the same way.</exception>
    internal Image? SharedPixels(bool animated, double load)
    {
        if (!shared.TryGetValue((animated, load), out Shared? entry))
        {
            return null;
        }

        return entry.Failure != null
            ? throw new ImageConversionException(entry.Failure.Code, entry.Failure.Message, entry.Failure.InnerException)
            : entry.Image;
    }

    public void Dispose()
    {
        foreach (Shared entry in shared.Values)
        {
            entry.Image?.Dispose();
        }

        shared.Clear();
    }

    private sealed record Shared(Image? Image, ImageConversionException? Failure);
}

public static partial class ImageConverter
{
    /// <summary>
    /// Opens <paramref name="source"/> for the outputs <paramref name="variants"/>: when two or more load its pixels the
    /// same way, decodes them once for those outputs, shrunk on load as each of them would be alone (sizes are read from
    /// the header first, and the pixel limits checked, before anything is decoded), and keeps them in memory for
    /// <see cref="DecodedSource.Encode"/>.
    /// A variant that cannot be made (too large, unreadable) is left out here and fails with its own reason when encoded.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static DecodedSource Decode(byte[] source, IReadOnlyList<ConversionOptions> variants, long maxPixels = DefaultMaxPixels, CancellationToken cancellationToken = default)
    {
        VipsRuntime.EnsureInitialized();
        var decoded = new DecodedSource(source, maxPixels);
        if (variants.Count < 2)
        {
            return decoded;
        }

        bool svgSource = source.Length > 0 && Image.FindLoadBuffer(source) == "VipsForeignLoadSvgBuffer";

        // SVG kept as SVG is copied, never decoded; the rest are grouped by the frames they keep and how they load the
        // source: a JPEG's 480 and 960 px outputs made from a 2725 px photo load it at 1/2 and whole, and share nothing.
        var groups = variants
            .Where(options => !(svgSource && options.Format == ImageFormat.Svg))
            .Select(options => (Options: options, Info: TryInspect(source, maxPixels, options)))
            .Where(v => v.Info != null)
            .GroupBy(v => (Animated: v.Info!.Frames > 1, Load: LoadFactor(v.Info!, v.Options)));
        foreach (var group in groups)
        {
            var members = group.ToList();
            if (members.Count < 2)
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                decoded.Share(group.Key.Animated, group.Key.Load, DecodeShared(source, members[0].Info!, group.Key.Load, members.Select(m => m.Options).ToList(), maxPixels, cancellationToken), null);
            }
            catch (ImageConversionException ex)
            {
                decoded.Share(group.Key.Animated, group.Key.Load, null, ex);
            }
        }

        return decoded;
    }

    /// <summary>
    /// About how many pixels an output will have, from the source's header alone (no pixel is decoded): what the batch
    /// orders its work by. A source whose size the header does not tell (HEIC, JPEG XL, unreadable) counts as the box.
    /// </summary>
    internal static long EstimatedOutputPixels(byte[] source, ConversionOptions options, long maxPixels)
    {
        SourceInfo? info = TryInspect(source, maxPixels, options);
        long box = (long)(options.Width ?? options.Height ?? 1000) * (options.Height ?? options.Width ?? 1000);
        if (info == null || info.Width <= 0 || info.Height <= 0)
        {
            return box;
        }

        var (width, height, size) = ResizePlan.ThumbnailBounds(info.Width, info.Height, options, info.Kind == SourceKind.Svg);
        if (size == Enums.Size.Force)
        {
            return (long)width * height * info.Frames;
        }

        double scale = Math.Min((double)width / info.Width, (double)height / info.Height);
        scale = size == Enums.Size.Down ? Math.Min(scale, 1) : scale;
        long pixels = (long)(info.Width * scale) * (long)(info.Height * scale);
        // Cover crops to the box and contain pads to it.
        return (options.Width != null && options.Height != null && options.Fit is FitMode.Cover or FitMode.Contain ? box : pixels) * info.Frames;
    }

    private static SourceInfo? TryInspect(byte[] source, long maxPixels, ConversionOptions options)
    {
        try
        {
            return Inspect(source, maxPixels, options);
        }
        catch (ImageConversionException)
        {
            return null;
        }
    }

    /// <summary>
    /// The pixels every one of <paramref name="variants"/> is thumbnailed from: the source loaded by
    /// <paramref name="load"/> (<see cref="LoadFactor"/>), before any resize, colour transform or rotation, in memory.
    /// Null when none of them can be made.
    /// </summary>
    private static Image? DecodeShared(byte[] source, SourceInfo info, double load, IReadOnlyList<ConversionOptions> variants, long maxPixels, CancellationToken cancellationToken)
    {
        using var scope = new ImageScope();
        try
        {
            if (info.ReadByImageMagick != null)
            {
                // ImageMagick decodes the whole image anyway; each output is resized from it as it is alone.
                return DecodeWithMagick(source, info, maxPixels);
            }

            bool anyFits = false;
            foreach (ConversionOptions options in variants)
            {
                try
                {
                    // Lazy: reads the header only, for the size this output will have.
                    CheckOutputPixels(scope.Add(Load(source, info, options, maxPixels, scope)), maxPixels);
                    anyFits = true;
                }
                catch (ImageConversionException)
                {
                    // Too large: it fails on its own when encoded.
                }
            }

            if (!anyFits)
            {
                return null;
            }

            var loadOptions = new VOption();
            if (info.Frames > 1)
            {
                loadOptions.Add("n", -1);
            }

            if (IsJpeg(info))
            {
                loadOptions.Add("shrink", (int)load);
            }
            else if (load != 1)
            {
                // WebP (never enlarged) and SVG render at a scale.
                loadOptions.Add("scale", 1 / load);
            }

            Image image = scope.Add(Image.NewFromBuffer(source, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error, kwargs: loadOptions));
            if (cancellationToken.CanBeCanceled)
            {
                image.SetProgress(NoProgress.Instance, cancellationToken);
            }

            return image.CopyMemory();
        }
        catch (VipsException ex)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new ImageConversionException(DiagnosticCodes.CannotDecode, "cannot be decoded: " + Describe(ex.Message), ex);
        }
    }

    /// <summary>
    /// How vips_thumbnail loads the source for this output (vips_thumbnail_open): JPEG shrunk by libjpeg's 1/2, 1/4 or
    /// 1/8, leaving at least a factor of two to the resize; WebP (never enlarged by libwebp) and SVG at the output's
    /// scale; everything else whole (1). Outputs with the same factor can share one decode and still come out as alone.
    /// Not followed: vips_thumbnail's use of a TIFF's pyramid levels or of a HEIF's embedded thumbnail, which the
    /// corpus does not have; such an output is then thumbnailed from the whole image instead.
    /// </summary>
    private static double LoadFactor(SourceInfo info, ConversionOptions options)
    {
        if (info.ReadByImageMagick != null)
        {
            return 1;
        }

        double shrink = ResizePlan.CommonShrink(info.Width, info.Height, options, vector: info.Kind == SourceKind.Svg);
        return IsJpeg(info) ? (shrink >= 16 ? 8 : shrink >= 8 ? 4 : shrink >= 4 ? 2 : 1)
            : info.Loader?.StartsWith("VipsForeignLoadWebp", StringComparison.Ordinal) == true ? Math.Max(1, shrink)
            : info.Kind == SourceKind.Svg ? shrink
            : 1;
    }

    private static bool IsJpeg(SourceInfo info) => info.Loader?.StartsWith("VipsForeignLoadJpeg", StringComparison.Ordinal) == true;

    /// <summary>
    /// One output's pixels before crop or padding: thumbnailed from the source (its own decode, as libvips streams
    /// it), or from the shared pixels it would have loaded itself, with the same bounds, colour transform and rotation.
    /// </summary>
    private static Image SizeVariant(DecodedSource decoded, SourceInfo info, ConversionOptions options, ImageScope scope)
    {
        Image? shared = decoded.SharedPixels(info.Frames > 1, LoadFactor(info, options));
        if (shared == null)
        {
            return Load(decoded.Source, info, options, decoded.MaxPixels, scope);
        }

        if (info.ReadByImageMagick != null)
        {
            return ResizeMagickDecoded(shared, options);
        }

        var (width, height, size) = ResizePlan.ThumbnailBounds(info.Width, info.Height, options, vector: info.Kind == SourceKind.Svg);
        return Thumbnail(shared, info, width, height, size);
    }
}
