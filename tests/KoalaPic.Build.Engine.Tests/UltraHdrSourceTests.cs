using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Ultra HDR JPEGs (a JPEG whose MPF segment carries a gain map: what recent Android phones' cameras save) are the
/// photos users drop into wwwroot/img. libvips would pick its uhdrload for them, which is not on the allow-list; blocked,
/// it is passed over (libvips does not consider blocked loaders), and the file is read as the JPEG it also is: its SDR
/// base image.
/// </summary>
public class UltraHdrSourceTests
{
    /// <summary>An Ultra HDR JPEG made by libvips' own uhdrsave from an HDR version of a corpus photo.</summary>
    private static byte[] UltraHdrJpeg(out Image sdrBase)
    {
        VipsRuntime.EnsureInitialized();
        using Image photo = Image.NewFromBuffer(FixtureBytes("flowers.jpeg"));
        using Image hdr = photo.Colourspace(Enums.Interpretation.Scrgb) * 3.0;
        byte[] bytes = (byte[])Operation.Call("uhdrsave_buffer", null, hdr);
        sdrBase = Image.JpegloadBuffer(bytes);
        return bytes;
    }

    [Fact]
    public void AnUltraHdrJpeg_ConvertsFromItsSdrBaseImage()
    {
        byte[] source = UltraHdrJpeg(out Image sdrBase);
        using (sdrBase)
        {
            // What makes it one: a Multi-Picture Format segment pointing at a second JPEG, the gain map, described by
            // ISO 21496-1 metadata (libultrahdr writes that; cameras also write Adobe's hdrgm XMP).
            Assert.True(Contains(source, "MPF\0"u8), "no MPF segment");
            Assert.True(Contains(source, "urn:iso:std:iso:ts:21496:-1"u8), "no gain map metadata");

            EncodedImage encoded = Convert(source, ImageFormat.Webp, width: 480);

            using Image output = Rgb(DecodeAs(encoded, ImageFormat.Webp));
            Assert.Equal(480, output.Width);
            Assert.Equal(480 * sdrBase.Height / sdrBase.Width, output.Height, tolerance: 1);
            using Image expected = Rgb(sdrBase.ThumbnailImage(480));
            Assert.True(MeanAbsDiff(expected, output) < 6, $"differs from the SDR base image by {MeanAbsDiff(expected, output):F1} per channel");
        }
    }

    private static bool Contains(byte[] bytes, ReadOnlySpan<byte> value) => bytes.AsSpan().IndexOf(value) >= 0;
}
