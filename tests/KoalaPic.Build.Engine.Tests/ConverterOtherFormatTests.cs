using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.MagickTestSupport;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// The formats libvips does not write (ico, bmp, pdf through ImageMagick; heic through the system's libheif; svg) and
/// HEIC input, through the whole pipeline (ImageConverter.Convert), read back by another decoder.
/// </summary>
public class ConverterOtherFormatTests
{
    private const string Photo = "2569067123_aca715a2ee_o.jpg"; // 2725x2225

    [Fact]
    public void Photo_ToIcoAt640_HasEveryDefaultSizeAsSquareEntries()
    {
        EncodedImage encoded = Convert(FixtureBytes(Photo), ImageFormat.Ico, width: 640);

        List<IcoEntry> entries = ReadIco(encoded.Bytes);
        Assert.Equal(new[] { 16, 32, 48, 64, 128, 256 }, entries.Select(e => e.Width).OrderBy(w => w));
        Assert.All(entries, e => Assert.Equal(e.Width, e.Height));
        Assert.Equal(640, encoded.Width);
    }

    [Fact]
    public void SmallImage_ToIco_LeavesOutSizesLargerThanTheImage()
    {
        var options = new ConversionOptions(ImageFormat.Ico, 85, 40, null);

        EncodedImage encoded = ImageConverter.Convert(FixtureBytes("with-alpha.png"), options);

        Assert.Equal(new[] { 16, 32 }, ReadIco(encoded.Bytes).Select(e => e.Width).OrderBy(w => w));
    }

    [Fact]
    public void TransparentPng_ToBmp_IsFlattenedOntoTheBackground()
    {
        var options = new ConversionOptions(ImageFormat.Bmp, 85, null, null) { Background = new Colour(0, 0, 255) };

        EncodedImage encoded = ImageConverter.Convert(FixtureBytes("full-transparent.png"), options);

        Bmp bmp = ReadBmp(encoded.Bytes);
        Assert.Equal(24, bmp.BitCount);
        AssertColourNear(new double[] { 0, 0, 255 }, bmp.Pixels.Getpoint(0, 0), 0);
    }

    [Fact]
    public void Photo_ToBmpAt640_MatchesTheSameResizeAsPng()
    {
        byte[] source = FixtureBytes(Photo);

        Bmp bmp = ReadBmp(Convert(source, ImageFormat.Bmp, width: 640).Bytes);
        using Image png = DecodeAs(Convert(source, ImageFormat.Png, width: 640, quality: 100), ImageFormat.Png);

        Assert.Equal((640, png.Height), (bmp.Pixels.Width, bmp.Pixels.Height));
        Assert.Equal(0, MeanAbsDiff(bmp.Pixels, png));
    }

    [SkippableFact]
    public void Photo_ToPdfAt640_IsOnePageOfThatSize()
    {
        SystemRequirement.Require(PopplerAvailable, PopplerMissing);
        using var folder = new TempFolder();
        EncodedImage encoded = Convert(FixtureBytes(Photo), ImageFormat.Pdf, width: 640);
        string pdf = folder.Combine("photo.pdf");
        File.WriteAllBytes(pdf, encoded.Bytes);

        Dictionary<string, string> info = PdfInfo(pdf);

        Assert.Equal("1", info["Pages"]);
        Assert.Matches($@"^640(\.0+)? x {encoded.Height}(\.0+)? pts", info["Page size"]);
    }

    [SkippableFact]
    public void HeicPhoto_ToWebp_IsDecodedResizedAndClose()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] heic = HeifEnc(Fixture("Landscape_1.jpg"), folder);

        EncodedImage encoded = Convert(heic, ImageFormat.Webp, width: 300, quality: 95);

        using Image decoded = DecodeAs(encoded, ImageFormat.Webp);
        using Image reference = ReferenceInBox(FixtureBytes("Landscape_1.jpg"), 300, null);
        Assert.Equal((300, 225), (decoded.Width, decoded.Height));
        Assert.True(MeanAbsDiff(Rgb(decoded), reference) < 6, "HEIC decoded to the same picture");
    }

    [SkippableFact]
    public void Photo_ToHeicAt640_IsHevcHeicThatConvertsBack()
    {
        SystemRequirement.Require(HeicEncoder.IsAvailable(out string reason), "HEIC output needs libheif with x265: " + reason);
        byte[] source = FixtureBytes(Photo);

        EncodedImage heic = Convert(source, ImageFormat.Heic, width: 640, quality: 90);

        Assert.Equal("heic", System.Text.Encoding.ASCII.GetString(heic.Bytes, 8, 4));
        // Read back by the other engine: ImageMagick's HEVC decoder, through KoalaPic's own HEIC input path.
        using Image back = DecodeAs(Convert(heic.Bytes, ImageFormat.Png, quality: 100), ImageFormat.Png);
        using Image reference = ReferenceInBox(source, 640, null);
        Assert.Equal((640, heic.Height), (back.Width, back.Height));
        Assert.True(MeanAbsDiff(Rgb(back), reference) < 4, "HEIC round trip keeps the picture");
    }

    [Fact]
    public void Photo_ToSvgAt640_EmbedsTheRasterAndRendersAt640()
    {
        byte[] source = FixtureBytes(Photo);

        EncodedImage svg = Convert(source, ImageFormat.Svg, width: 640, quality: 90);

        Assert.StartsWith("<svg", System.Text.Encoding.UTF8.GetString(svg.Bytes, 0, 4));
        Assert.Equal("VipsForeignLoadSvgBuffer", Image.FindLoadBuffer(svg.Bytes));
        using Image rendered = Image.NewFromBuffer(svg.Bytes).CopyMemory();
        using Image reference = ReferenceInBox(source, 640, null);
        Assert.Equal((640, reference.Height), (rendered.Width, rendered.Height));
        Assert.True(MeanAbsDiff(Rgb(rendered), reference) < 4, "the embedded raster is the converted photo");
    }

    [Fact]
    public void HostileSvg_ToSvg_IsACleanVectorAtTheRequestedWidth()
    {
        const string hostile = "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"100\" height=\"50\" onload=\"alert(1)\">" +
                               "<script>alert(2)</script><image xlink:href=\"file:///etc/passwd\" width=\"10\" height=\"10\"/>" +
                               "<rect width=\"100\" height=\"50\" fill=\"#ff0000\"/></svg>";

        EncodedImage svg = Convert(System.Text.Encoding.UTF8.GetBytes(hostile), ImageFormat.Svg, width: 400);

        string text = System.Text.Encoding.UTF8.GetString(svg.Bytes);
        Assert.DoesNotContain("script", text);
        Assert.DoesNotContain("onload", text);
        Assert.DoesNotContain("file:", text);
        Assert.Contains("<rect", text);
        using Image rendered = Image.NewFromBuffer(svg.Bytes).CopyMemory();
        Assert.Equal((400, 200), (rendered.Width, rendered.Height));
        AssertColourNear(new double[] { 255, 0, 0 }, rendered.Getpoint(200, 100), 1);
    }

    [SkippableFact]
    public void HeicBomb_Convert_IsRefusedFromItsHeader()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] bomb = HeifBoxes.WithImageSize(HeifEnc(Fixture("concert.jpg"), folder), 30000, 30000);

        var ex = Assert.Throws<ImageConversionException>(() => Convert(bomb, ImageFormat.Webp));

        Assert.Equal(DiagnosticCodes.TooManyPixels, ex.Code);
    }
}
