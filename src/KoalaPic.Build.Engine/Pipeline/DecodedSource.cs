using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// A source opened once for all its outputs (<see cref="ImageConverter.Decode"/>). When two or more outputs need its
/// pixels, they are decoded once, shrunk on load to the largest output, and held in memory; each output is resized
/// from them. <see cref="Encode"/> may run on several threads at once. Dispose it when its last output is encoded:
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
    /// decodes it once, shrunk on load to the largest of them (sizes are read from the header first, and the pixel
    /// limits checked, before anything is decoded), and keeps those pixels in memory for <see cref="DecodedSource.Encode"/>.
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
    /// The pixels every one of <paramref name="variants"/> can be resized from: at least as large as each would have
    /// been thumbnailed from the source, in memory. Null when none of them can be made.
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

            // The scale of the largest output, from lazy pipelines that read the header only.
            double scale = 0;
            ConversionOptions? largest = null;
            foreach (ConversionOptions options in variants)
            {
                try
                {
                    Image probe = scope.Add(Load(source, info, options, maxPixels, scope));
                    CheckOutputPixels(probe, maxPixels);
                    double own = Math.Max((double)probe.Width / info.Width, (double)Frames.PageHeight(probe) / info.Height);
                    bool keepsAspect = ResizePlan.ThumbnailBounds(info.Width, info.Height, options, info.Kind == SourceKind.Svg).Size != Enums.Size.Force;
                    if (own > scale || (own == scale && keepsAspect))
                    {
                        scale = own;
                        largest = keepsAspect ? options : null;
                    }
                }
                catch (ImageConversionException)
                {
                    // Too large: it fails on its own when encoded, and does not size the shared pixels.
                }
            }

            if (scale == 0)
            {
                return null;
            }

            // The largest output's own thumbnail, so that it comes out exactly as it would alone; when that output is
            // stretched (Fit=fill), the source at its scale.
            bool vector = info.Kind == SourceKind.Svg;
            const int unbounded = 10_000_000;
            Image image = scope.Add(largest != null
                ? Load(source, info, largest, maxPixels, scope)
                : LoadAt(source, info, !vector && scale >= 1 ? unbounded : (int)Math.Ceiling(scale * info.Width), unbounded, vector ? Enums.Size.Both : Enums.Size.Down));
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
    /// One output's pixels before crop or padding: from the source (its own decode, as libvips streams it), or from the
    /// shared pixels, resized to exactly the size the source would have been thumbnailed to.
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

        // Reads the header only: the size this output had when it was thumbnailed from the source.
        Image probe = scope.Add(Load(decoded.Source, info, options, decoded.MaxPixels, scope));
        CheckOutputPixels(probe, decoded.MaxPixels);
        int width = probe.Width;
        int pageHeight = Frames.PageHeight(probe);

        // The shared pixels are upright and sRGB already: no second rotation or colour transform. A copy, never the
        // shared image itself, goes into the scope, which disposes what it holds.
        return Frames.Map(shared, info.Frames, scope, frame => frame.Width == width && frame.Height == pageHeight
            ? frame.Copy()
            : frame.ThumbnailImage(width, height: pageHeight, size: Enums.Size.Force, noRotate: true));
    }
}
