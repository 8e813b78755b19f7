using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// A source opened once for all its outputs (<see cref="ImageConverter.Decode"/>). When two or more outputs need its
/// pixels, they are decoded once, shrunk on load as for the largest output (JPEG by 1/2–1/8, WebP and SVG to its
/// scale, the rest whole), and held in memory; each output is thumbnailed from them in one pass, never from another
/// output, so it is the output made alone wherever that would have loaded the source the same way. <see cref="Encode"/> may run on several threads at once. Dispose it when its last output is encoded:
/// it holds the pixels until then.
/// </summary>
public sealed class DecodedSource : IDisposable
{
    // By whether the outputs keep an animation's frames: an animated GIF made into webp and jpg is decoded twice,
    // once with every frame and once with the first.
    private readonly Dictionary<bool, Shared> shared = new();

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

    internal void Share(bool animated, Image? image, ImageConversionException? failure) => shared[animated] = new Shared(image, failure);

    /// <summary>The shared pixels for outputs that keep (or drop) an animation's frames, or null when that output decodes on its own.</summary>
    /// <exception cref="ImageConversionException">Decoding them failed: every output that shares them fails the same way.</exception>
    internal Image? SharedPixels(bool animated)
    {
        if (!shared.TryGetValue(animated, out Shared? entry))
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
    /// Opens <paramref name="source"/> for the outputs <paramref name="variants"/>: when two or more need its pixels,
    /// decodes it once, shrunk on load as the largest of them would be alone (sizes are read from the header first, and
    /// the pixel limits checked, before anything is decoded), and keeps those pixels in memory for <see cref="DecodedSource.Encode"/>.
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

        // SVG kept as SVG is copied, never decoded; the rest are grouped by the frames they keep.
        var groups = variants
            .Where(options => !(svgSource && options.Format == ImageFormat.Svg))
            .Select(options => (Options: options, Info: TryInspect(source, maxPixels, options)))
            .Where(v => v.Info != null)
            .GroupBy(v => v.Info!.Frames > 1);
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
                decoded.Share(group.Key, DecodeShared(source, members[0].Info!, members.Select(m => m.Options).ToList(), maxPixels, cancellationToken), null);
            }
            catch (ImageConversionException ex)
            {
                decoded.Share(group.Key, null, ex);
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
    /// The pixels every one of <paramref name="variants"/> is resized from: the source as the thumbnail of the largest
    /// of them loads it (shrunk on load by the same factor, before any resize, colour transform or rotation), in
    /// memory. Null when none of them can be made.
    /// </summary>
    private static Image? DecodeShared(byte[] source, SourceInfo info, IReadOnlyList<ConversionOptions> variants, long maxPixels, CancellationToken cancellationToken)
    {
        using var scope = new ImageScope();
        try
        {
            if (info.ReadByImageMagick != null)
            {
                // ImageMagick decodes the whole image anyway; each output is resized from it as before.
                return DecodeWithMagick(source, info, maxPixels);
            }

            // The least shrink among the outputs that can be made: the largest output's, whose load serves them all.
            bool vector = info.Kind == SourceKind.Svg;
            double shrink = double.PositiveInfinity;
            foreach (ConversionOptions options in variants)
            {
                try
                {
                    // Lazy: reads the header only, for the size this output will have.
                    CheckOutputPixels(scope.Add(Load(source, info, options, maxPixels, scope)), maxPixels);
                    shrink = Math.Min(shrink, ResizePlan.CommonShrink(info.Width, info.Height, options, vector));
                }
                catch (ImageConversionException)
                {
                    // Too large: it fails on its own when encoded, and does not size the shared pixels.
                }
            }

            if (double.IsPositiveInfinity(shrink))
            {
                return null;
            }

            Image image = scope.Add(LoadShrunk(source, info, shrink));
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
    /// The source loaded as vips_thumbnail loads it for an output <paramref name="shrink"/> times smaller
    /// (vips_thumbnail_open): JPEG by libjpeg's 1/2, 1/4 or 1/8 scaling, leaving at least a factor of two to the
    /// resize; WebP (never enlarged by libwebp) and SVG at that scale; everything else whole. Each output's thumbnail
    /// of these pixels is then the one it makes alone whenever that output loads with the same factor.
    /// </summary>
    private static Image LoadShrunk(byte[] source, SourceInfo info, double shrink)
    {
        var options = new VOption();
        if (info.Frames > 1)
        {
            options.Add("n", -1);
        }

        string loader = info.Loader ?? "";
        if (loader.StartsWith("VipsForeignLoadJpeg", StringComparison.Ordinal))
        {
            options.Add("shrink", shrink >= 16 ? 8 : shrink >= 8 ? 4 : shrink >= 4 ? 2 : 1);
        }
        else if (loader.StartsWith("VipsForeignLoadWebp", StringComparison.Ordinal))
        {
            options.Add("scale", 1 / Math.Max(1, shrink));
        }
        else if (info.Kind == SourceKind.Svg)
        {
            options.Add("scale", 1 / shrink);
        }

        return Image.NewFromBuffer(source, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error, kwargs: options);
    }

    /// <summary>
    /// One output's pixels before crop or padding: thumbnailed from the source (its own decode, as libvips streams
    /// it), or from the shared pixels in one pass with the same bounds, colour transform and rotation.
    /// </summary>
    private static Image SizeVariant(DecodedSource decoded, SourceInfo info, ConversionOptions options, ImageScope scope)
    {
        Image? shared = decoded.SharedPixels(info.Frames > 1);
        if (shared == null)
        {
            return Load(decoded.Source, info, options, decoded.MaxPixels, scope);
        }

        if (info.ReadByImageMagick != null)
        {
            return ResizeMagickDecoded(shared, options);
        }

        // Lazy, both: only sizes are computed here. The probe reads the header only: the size this output has alone.
        Image probe = scope.Add(Load(decoded.Source, info, options, decoded.MaxPixels, scope));
        CheckOutputPixels(probe, decoded.MaxPixels);
        var (width, height, size) = ResizePlan.ThumbnailBounds(info.Width, info.Height, options, vector: info.Kind == SourceKind.Svg);
        Image thumbnail = scope.Add(Thumbnail(shared, info, width, height, size));
        if (thumbnail.Width == probe.Width && Frames.PageHeight(thumbnail) == Frames.PageHeight(probe))
        {
            return thumbnail;
        }

        // Alone, it would have been shrunk more on load, and libvips rounds its size from that smaller decode: the
        // same size here, still in one resize of the shared pixels.
        return Thumbnail(shared, info, probe.Width, Frames.PageHeight(probe), Enums.Size.Force);
    }
}
