using System;
using System.Collections.Generic;
using System.Linq;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Starts libvips and compiles the conversion code for the formats a build will write, on a small image made in
/// memory, so that a fresh build process does not pay that first-use cost (the JIT of the engine, NetVips' interop and
/// each format's path, about 0.15–0.2 s of CPU) while its images wait. The MSBuild task runs it on a background thread
/// at the start of a cold build, where it overlaps with MSBuild's own work on the other cores.
/// </summary>
public static class EngineWarmUp
{
    /// <summary>Converts a tiny opaque JPEG and a tiny PNG with alpha to each libvips format in <paramref name="formats"/>.</summary>
    /// <returns>False when libvips could not start or a conversion failed; a warm-up never throws, the real batch reports.</returns>
    public static bool Run(IEnumerable<ImageFormat> formats)
    {
        try
        {
            VipsRuntime.EnsureInitialized();
            (byte[] jpeg, byte[] png) = Samples();
            foreach (ImageFormat format in formats.Where(f => f is ImageFormat.Jpeg or ImageFormat.Png or ImageFormat.Webp or ImageFormat.Avif or ImageFormat.Gif or ImageFormat.Tiff).Distinct())
            {
                var options = new ConversionOptions(format, ConversionOptions.DefaultQuality, Width: 24, Height: null);
                ImageConverter.Convert(jpeg, options);
                ImageConverter.Convert(png, options);
            }

            return true;
        }
        catch (Exception ex) when (ex is EngineLoadException or ImageConversionException or VipsException)
        {
            return false;
        }
    }

    /// <summary>A 48×32 gradient as a JPEG and as a PNG with alpha: the two most common kinds of source.</summary>
    private static (byte[] Jpeg, byte[] Png) Samples()
    {
        using Image x = Image.Xyz(48, 32);
        using Image gradient = x.Linear(new[] { 4.0, 6.0 }, new[] { 20.0, 40.0 });
        using Image rgb = gradient.Bandjoin(128).Cast(Enums.BandFormat.Uchar);
        using Image sRgb = rgb.Copy(interpretation: Enums.Interpretation.Srgb);
        using Image rgba = sRgb.Bandjoin(200);
        return (sRgb.JpegsaveBuffer(q: 90), rgba.PngsaveBuffer());
    }
}
