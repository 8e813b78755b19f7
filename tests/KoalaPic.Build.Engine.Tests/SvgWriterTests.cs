using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// SVG output, read back by librsvg (libvips' SVG loader): rasters wrapped in SVG, and SVG sources sanitised and
/// resized, including hostile SVGs built here.
/// </summary>
public sealed class SvgWriterTests : IDisposable
{
    private const string Photo = "2569067123_aca715a2ee_o.jpg";
    private const string SvgNs = "http://www.w3.org/2000/svg";

    // Every network reference in the hostile SVGs points here; nothing may ever connect.
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);

    public SvgWriterTests()
    {
        VipsRuntime.EnsureInitialized();
        listener.Start();
    }

    private int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    private string Loopback => $"http://127.0.0.1:{Port}";

    public void Dispose()
    {
        Assert.False(listener.Pending(), "something connected to the loopback listener");
        listener.Stop();
    }

    // ---- EmbedRaster ----

    [Fact]
    public void EmbedRaster_Photo_IsAnSvgOfThePhotosSizeThatRendersAsThePhoto()
    {
        using Image photo = Image.ThumbnailBuffer(FixtureBytes(Photo), 320).CopyMemory();

        byte[] svg = SvgWriter.EmbedRaster(photo, 85);

        Assert.Equal((byte)'<', svg[0]);
        string text = Encoding.UTF8.GetString(svg);
        Assert.Contains("xlink:href=\"data:image/jpeg;base64,", text);
        Assert.Equal(svg, SvgWriter.EmbedRaster(photo, 85));
        using Image rendered = Render(svg);
        Assert.Equal((photo.Width, photo.Height), (rendered.Width, rendered.Height));
        double difference = MeanAbsDiff(Rgb(rendered), photo);
        // JPEG at quality 85 (measured about 2.9 for this photo in ConverterOutputFormatTests).
        Assert.True(difference < 6, $"mean absolute difference {difference:F2}");
        Assert.True(MeanAbsDiff(Rgb(rendered), photo.FlipHor()) > 20, "the mirrored photo should differ");
    }

    [Fact]
    public void EmbedRaster_Quality100_EmbedsALosslessPng()
    {
        using Image photo = Image.ThumbnailBuffer(FixtureBytes(Photo), 160).CopyMemory();

        byte[] svg = SvgWriter.EmbedRaster(photo, 100);

        Assert.Contains("data:image/png;base64,", Encoding.UTF8.GetString(svg));
        using Image rendered = Render(svg);
        Assert.True(MeanAbsDiff(Rgb(rendered), photo) < 0.5, "a PNG drawn at its own size should render (nearly) exactly");
    }

    [Fact]
    public void EmbedRaster_ImageWithAlpha_EmbedsPngAndKeepsTransparency()
    {
        using Image source = Image.NewFromBuffer(FixtureBytes("with-alpha.png")).CopyMemory();

        byte[] svg = SvgWriter.EmbedRaster(source, 80);

        Assert.Contains("data:image/png;base64,", Encoding.UTF8.GetString(svg));
        using Image rendered = Render(svg);
        Assert.Equal((source.Width, source.Height, 4), (rendered.Width, rendered.Height, rendered.Bands));
        // The fixture's alpha is 168 everywhere.
        Assert.InRange(rendered[3].Avg(), 167, 169);
        Assert.True(MeanAbsDiff(Rgb(rendered), Rgb(source)) < 2, "colours should survive librsvg's premultiplied drawing");
    }

    // ---- Sanitize: corpus and sizing ----

    [Fact]
    public void Sanitize_CorpusCheckmark_RendersAtTheRequestedWidth()
    {
        (byte[] svg, int width, int height) = SvgWriter.Sanitize(FixtureBytes("check.svg"), 200, null, FitMode.Inside);

        Assert.Equal((200, 200), (width, height));
        using Image rendered = Render(svg);
        Assert.Equal((200, 200), (rendered.Width, rendered.Height));
        // The tick is green ("fill=green": 0,128,0) where its stroke is widest, bottom left of centre.
        AssertColourNear(new double[] { 0, 128, 0 }, rendered.Getpoint(55, 165), 1);
        Assert.Equal(255, rendered[3].Getpoint(55, 165)[0]);
        Assert.Equal(0, rendered[3].Getpoint(5, 5)[0]);
    }

    [Fact]
    public void Sanitize_CorpusCircle_InsideABoxKeepsItSquareAndDrawsThePinkCircle()
    {
        (byte[] svg, int width, int height) = SvgWriter.Sanitize(FixtureBytes("circle.svg"), 64, 32, FitMode.Inside);

        Assert.Equal((32, 32), (width, height));
        using Image rendered = Render(svg);
        Assert.Equal((32, 32), (rendered.Width, rendered.Height));
        AssertColourNear(new double[] { 255, 20, 147 }, rendered.Getpoint(16, 16), 3); // deeppink
        Assert.Equal(0, rendered[3].Getpoint(0, 0)[0]);
    }

    [Fact]
    public void Sanitize_NoSizeRequested_KeepsTheDrawingsSize()
    {
        (byte[] svg, int width, int height) = SvgWriter.Sanitize(FixtureBytes("circle.svg"), null, null, FitMode.Inside);

        Assert.Equal((8, 8), (width, height));
        using Image rendered = Render(svg);
        Assert.Equal((8, 8), (rendered.Width, rendered.Height));
    }

    [Fact]
    public void Sanitize_EmptyCorpusFile_IsRefusedAsEmpty()
    {
        byte[] empty = FixtureBytes("Wikimedia-logo.svg");
        Assert.Empty(empty);

        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(empty, 100, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.Equal("is empty", error.Message);
    }

    // A 200×100 drawing: left half red, right half blue.
    private static byte[] Halves(string rootSize = "") => Bytes(
        $"<svg xmlns='{SvgNs}' viewBox='0 0 200 100' {rootSize}><rect width='100' height='100' fill='#ff0000'/><rect x='100' width='100' height='100' fill='#0000ff'/></svg>");

    [Theory]
    [InlineData(FitMode.Inside, 100, 50)]
    [InlineData(FitMode.Outside, 200, 100)]
    [InlineData(FitMode.Fill, 100, 100)]
    [InlineData(FitMode.Cover, 100, 100)]
    [InlineData(FitMode.Contain, 100, 100)]
    public void Sanitize_EachFit_GivesSharpsSizes(FitMode fit, int expectedWidth, int expectedHeight)
    {
        (byte[] svg, int width, int height) = SvgWriter.Sanitize(Halves(), 100, 100, fit);

        Assert.Equal((expectedWidth, expectedHeight), (width, height));
        using Image rendered = Render(svg);
        Assert.Equal((expectedWidth, expectedHeight), (rendered.Width, rendered.Height));
    }

    [Fact]
    public void Sanitize_Fill_StretchesTheDrawingOverTheWholeBox()
    {
        using Image rendered = Render(SvgWriter.Sanitize(Halves(), 100, 100, FitMode.Fill).Bytes);

        AssertColourNear(new double[] { 255, 0, 0 }, rendered.Getpoint(10, 2), 1);
        AssertColourNear(new double[] { 0, 0, 255 }, rendered.Getpoint(90, 97), 1);
        Assert.Equal(255, rendered[3].Min());
    }

    [Fact]
    public void Sanitize_Cover_FillsTheBoxWithTheMiddleOfTheDrawing()
    {
        using Image rendered = Render(SvgWriter.Sanitize(Halves(), 100, 100, FitMode.Cover).Bytes);

        // The middle 100×100 of the 200×100 drawing: red on the left half, blue on the right, no transparency.
        AssertColourNear(new double[] { 255, 0, 0 }, rendered.Getpoint(10, 50), 1);
        AssertColourNear(new double[] { 0, 0, 255 }, rendered.Getpoint(90, 50), 1);
        Assert.Equal(255, rendered[3].Min());
    }

    [Fact]
    public void Sanitize_Contain_LetterboxesTheDrawingWithTransparency()
    {
        using Image rendered = Render(SvgWriter.Sanitize(Halves(), 100, 100, FitMode.Contain).Bytes);

        // 100×50 drawn in the middle; the bands above and below are empty.
        Assert.Equal(0, rendered[3].Getpoint(50, 10)[0]);
        Assert.Equal(0, rendered[3].Getpoint(50, 90)[0]);
        AssertColourNear(new double[] { 255, 0, 0 }, rendered.Getpoint(10, 50), 1);
        AssertColourNear(new double[] { 0, 0, 255 }, rendered.Getpoint(90, 50), 1);
    }

    [Theory]
    [InlineData("width='210mm' height='297mm'", 794, 1123)]
    [InlineData("width='400px' height='200'", 400, 200)]
    [InlineData("width='400'", 400, 200)]
    [InlineData("width='100%' height='100%'", 200, 100)]
    [InlineData("width='2in' height='1in'", 192, 96)]
    public void Sanitize_RootUnits_GiveTheSizeBrowsersUse(string rootSize, int expectedWidth, int expectedHeight)
    {
        (byte[] svg, int width, int height) = SvgWriter.Sanitize(Halves(rootSize), null, null, FitMode.Inside);

        Assert.Equal((expectedWidth, expectedHeight), (width, height));
        using Image rendered = Render(svg);
        Assert.Equal((expectedWidth, expectedHeight), (rendered.Width, rendered.Height));
    }

    [Fact]
    public void Sanitize_NeitherSizeNorViewBox_Is300By150LikeBrowsers()
    {
        byte[] source = Bytes($"<svg xmlns='{SvgNs}'><rect width='300' height='150' fill='#00ff00'/></svg>");

        (byte[] svg, int width, int height) = SvgWriter.Sanitize(source, 150, null, FitMode.Inside);

        Assert.Equal((150, 75), (width, height));
        using Image rendered = Render(svg);
        Assert.Equal((150, 75), (rendered.Width, rendered.Height));
        Assert.Equal(255, rendered[3].Min());
    }

    [Fact]
    public void Sanitize_SameInputTwice_GivesTheSameBytesInUtf8WithoutBomOrDeclaration()
    {
        byte[] source = Encoding.UTF8.GetPreamble().Concat(Bytes("<?xml version='1.0' encoding='UTF-8'?>\n"
            + $"<svg xmlns='{SvgNs}' viewBox='0 0 10 10'><text x='1' y='8'>Grüße</text></svg>")).ToArray();

        byte[] first = SvgWriter.Sanitize(source, 20, null, FitMode.Inside).Bytes;
        byte[] second = SvgWriter.Sanitize(source, 20, null, FitMode.Inside).Bytes;

        Assert.Equal(first, second);
        Assert.Equal((byte)'<', first[0]);
        string text = Encoding.UTF8.GetString(first);
        Assert.StartsWith("<svg ", text);
        Assert.Contains("Grüße", text);
    }

    [Fact]
    public void Sanitize_Svgz_IsReadAndWrittenAsPlainSvg()
    {
        byte[] svgz = Gzip(FixtureBytes("circle.svg"));

        (byte[] svg, int width, int height) = SvgWriter.Sanitize(svgz, 16, null, FitMode.Inside);

        Assert.Equal((16, 16), (width, height));
        Assert.StartsWith("<svg ", Encoding.UTF8.GetString(svg));
        using Image rendered = Render(svg);
        AssertColourNear(new double[] { 255, 20, 147 }, rendered.Getpoint(8, 8), 3);
    }

    [Fact]
    public void Sanitize_SvgzBomb_IsRefusedAtTheLimit()
    {
        byte[] prefix = Bytes($"<svg xmlns='{SvgNs}'><desc>");
        var bomb = new byte[SvgWriter.MaxSvgBytes + 1];
        prefix.CopyTo(bomb, 0);
        bomb.AsSpan(prefix.Length).Fill((byte)' ');

        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(Gzip(bomb), 16, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.Contains("limit", error.Message);
    }

    [Theory]
    [InlineData("<svg xmlns='http://www.w3.org/2000/svg'><rect", "is not well-formed SVG (XML)")]
    [InlineData("<html><body/></html>", "is not an SVG document: its root element is <html>")]
    [InlineData("not xml at all", "is not well-formed SVG (XML)")]
    public void Sanitize_NotSvg_IsRefusedWithTheReason(string source, string expected)
    {
        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(Bytes(source), 16, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void Sanitize_MissingSvgNamespace_IsAddedSoTheDrawingRenders()
    {
        (byte[] svg, _, _) = SvgWriter.Sanitize(Bytes("<svg viewBox='0 0 10 10'><rect width='10' height='10' fill='#ff0000'/></svg>"), 10, null, FitMode.Inside);

        using Image rendered = Render(svg);
        AssertColourNear(new double[] { 255, 0, 0 }, rendered.Getpoint(5, 5), 1);
    }

    // ---- Sanitize: hostile SVGs ----

    [Fact]
    public void Sanitize_ExternalEntity_IsRefusedWithoutReadingTheFile()
    {
        using var folder = new TempFolder();
        string secret = folder.Combine("secret.txt");
        string token = "koalapic-secret-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(secret, token);
        byte[] source = Bytes(
            $"<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY x SYSTEM 'file://{secret}'>]>"
            + $"<svg xmlns='{SvgNs}' viewBox='0 0 10 10'><text>&x;</text></svg>");

        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(source, 10, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.Contains("DOCTYPE", error.Message);
        Assert.Contains("XXE", error.Message);
        Assert.DoesNotContain(token, error.ToString());
    }

    [Fact]
    public void Sanitize_EntityExpansionBomb_IsRefused()
    {
        var doctype = new StringBuilder("<!DOCTYPE svg [<!ENTITY a0 'lol'>");
        for (int i = 1; i < 10; i++)
        {
            doctype.Append($"<!ENTITY a{i} '{string.Concat(Enumerable.Repeat($"&a{i - 1};", 10))}'>");
        }

        byte[] source = Bytes(doctype + $"]><svg xmlns='{SvgNs}'><text>&a9;</text></svg>");

        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(source, 10, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.Contains("DOCTYPE", error.Message);
    }

    [Fact]
    public void Sanitize_DoctypeThatOnlyNamesTheSvgDtd_IsIgnoredAndNeverFetched()
    {
        // As Illustrator writes it, but with the DTD's address on the loopback listener.
        byte[] source = Bytes(
            $"<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' '{Loopback}/svg11.dtd'>\n"
            + $"<svg xmlns='{SvgNs}' version='1.1' viewBox='0 0 10 10'><rect width='10' height='10' fill='#ff0000'/></svg>");

        (byte[] svg, _, _) = SvgWriter.Sanitize(source, 10, null, FitMode.Inside);

        string text = Encoding.UTF8.GetString(svg);
        Assert.DoesNotContain("DOCTYPE", text);
        Assert.DoesNotContain("127.0.0.1", text);
        using Image rendered = Render(svg);
        AssertColourNear(new double[] { 255, 0, 0 }, rendered.Getpoint(5, 5), 1);
        Assert.False(listener.Pending(), "the DTD was fetched");
    }

    [Theory]
    [InlineData("<!DOCTYPE svg [<!ATTLIST svg onload CDATA 'alert(1)'>]>")]
    [InlineData("<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' 'svg11.dtd' [ <!ENTITY a 'b'> ]>")]
    [InlineData("<!-- <!ENTITY x 'y'> -->")]
    public void Sanitize_DoctypeWithDeclarations_IsRefused(string prolog)
    {
        byte[] source = Bytes(prolog + $"<svg xmlns='{SvgNs}' viewBox='0 0 10 10'/>");

        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(source, 10, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.Contains("XXE", error.Message);
    }

    [Fact]
    public void Sanitize_Utf16ExternalEntity_IsRefused()
    {
        byte[] source = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(
            $"<!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/hostname'>]><svg xmlns='{SvgNs}'><text>&x;</text></svg>")).ToArray();

        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(source, 10, null, FitMode.Inside));

        Assert.Contains("XXE", error.Message);
    }

    [Fact]
    public void Sanitize_Utf32ExternalEntity_WhichTheByteScanMisses_IsStillNeverExpanded()
    {
        // The DTD check scans UTF-8 and UTF-16 only; the parser itself ignores every DTD, so the entity stays undeclared.
        using var folder = new TempFolder();
        string secret = folder.Combine("secret.txt");
        string token = "koalapic-secret-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(secret, token);
        var utf32 = new UTF32Encoding(bigEndian: false, byteOrderMark: true);
        byte[] source = utf32.GetPreamble().Concat(utf32.GetBytes(
            $"<!DOCTYPE svg [<!ENTITY x SYSTEM 'file://{secret}'>]><svg xmlns='{SvgNs}' viewBox='0 0 10 10'><text>&x;</text></svg>")).ToArray();

        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(source, 10, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.DoesNotContain(token, error.ToString());
    }

    /// <summary>Hostile constructs (network ones aimed at the loopback listener) and a text that must not survive.</summary>
    public static TheoryData<string, string[]> Hostile => new()
    {
        { "<script>alert('x')</script>", new[] { "script", "alert" } },
        { "<script xlink:href='{LOOP}/s.js'/>", new[] { "script", "127.0.0.1" } },
        { "<rect width='5' height='5' onclick='alert(1)' ONMOUSEOVER='alert(2)'/>", new[] { "onclick", "onmouseover", "alert" } },
        { "<a xlink:href='javascript:alert(1)'><rect width='5' height='5'/></a>", new[] { "javascript", "alert" } },
        { "<a href=' java&#x09;script:alert(1)'><rect width='5' height='5'/></a>", new[] { "script", "alert" } },
        { "<image width='5' height='5' xlink:href='file:///secret.png'/>", new[] { "file:", "secret" } },
        { "<image width='5' height='5' href='{LOOP}/x.png'/>", new[] { "127.0.0.1" } },
        { "<image width='5' height='5' href='data:image/svg+xml;base64,PHN2Zy8+'/>", new[] { "svg+xml" } },
        { "<filter id='f'><feImage href='{LOOP}/f.png'/></filter>", new[] { "127.0.0.1" } },
        { "<use href='other.svg#a'/><use xlink:href='{LOOP}/u.svg#b'/>", new[] { "other.svg", "<use", "127.0.0.1" } },
        { "<style>@import url({LOOP}/a.css); @import '{LOOP}/b.css';</style>", new[] { "@import", "127.0.0.1" } },
        { "<style>.p { fill: url({LOOP}/p.svg#p) } circle { fill: url('{LOOP}/q.svg#q') }</style>", new[] { "127.0.0.1" } },
        { "<style>.p { fill: \\75rl({LOOP}/e.svg#p) }</style>", new[] { "127.0.0.1", "\\75" } },
        { "<style>@font-face { font-family: x; src: url({LOOP}/f.woff) }</style>", new[] { "127.0.0.1" } },
        { "<rect width='5' height='5' style='fill: url({LOOP}/p.svg#p); stroke: url(\"{LOOP}/s.svg#s\")'/>", new[] { "127.0.0.1" } },
        { "<rect width='5' height='5' fill='url({LOOP}/p.svg#p)' filter='url({LOOP}/f.svg#f)' cursor='url({LOOP}/c.cur), auto'/>", new[] { "127.0.0.1" } },
        { "<foreignObject width='10' height='10'><body xmlns='http://www.w3.org/1999/xhtml'><iframe src='{LOOP}/i'/><script>alert(1)</script></body></foreignObject>", new[] { "foreignObject", "iframe", "body", "alert", "127.0.0.1" } },
        { "<a href='#r'><set attributeName='href' to='javascript:alert(1)'/><rect width='5' height='5'/></a>", new[] { "<set", "javascript", "alert" } },
        { "<a href='#r'><animate attributeName='xlink:href' values='#r;javascript:alert(1)'/><rect width='5' height='5'/></a>", new[] { "<animate", "javascript", "alert" } },
        { "<rect width='5' height='5'><animate attributeName='fill' values='red;url({LOOP}/p.svg#p)'/></rect>", new[] { "<animate", "127.0.0.1" } },
        { "<rect width='5' height='5'><set attributeName='onclick' to='alert(1)'/></rect>", new[] { "<set", "alert" } },
        { "<g xml:base='{LOOP}/'><rect width='5' height='5'/></g>", new[] { "xml:base", "127.0.0.1" } },
        { "<handler type='application/ecmascript'>alert(1)</handler>", new[] { "handler", "alert" } },
        { "<html:script xmlns:html='http://www.w3.org/1999/xhtml'>alert(1)</html:script>", new[] { "script", "alert" } },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Sanitize_HostileConstruct_IsRemovedAndTheRestStillRenders(string construct, string[] forbidden)
    {
        string hostile = construct.Replace("{LOOP}", Loopback);
        byte[] source = Bytes(
            $"<svg xmlns='{SvgNs}' xmlns:xlink='http://www.w3.org/1999/xlink' viewBox='0 0 20 10' onload='alert(0)'>"
            + "<rect id='r' x='10' width='10' height='10' fill='#00ff00'/>" + hostile + "</svg>");

        (byte[] svg, int width, int height) = SvgWriter.Sanitize(source, 40, null, FitMode.Inside);

        string text = Encoding.UTF8.GetString(svg);
        foreach (string gone in forbidden.Append("onload"))
        {
            Assert.DoesNotContain(gone, text, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(SvgNs, XDocument.Parse(text).Root!.Name.NamespaceName);
        Assert.Equal((40, 20), (width, height));
        using Image rendered = Render(svg);
        Assert.Equal((40, 20), (rendered.Width, rendered.Height));
        // The harmless green rectangle on the right survives.
        AssertColourNear(new double[] { 0, 255, 0 }, rendered.Getpoint(30, 10), 1);
        Assert.False(listener.Pending(), "librsvg connected to the loopback listener");
    }

    [Fact]
    public void Sanitize_SafeConstructs_AreKept()
    {
        using Image dot = (Image.Black(2, 2, bands: 3) + new double[] { 0, 0, 255 }).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        string png = System.Convert.ToBase64String(dot.PngsaveBuffer());
        byte[] source = Bytes(
            $"<svg xmlns='{SvgNs}' xmlns:xlink='http://www.w3.org/1999/xlink' xmlns:inkscape='http://www.inkscape.org/namespaces/inkscape' viewBox='0 0 30 10'>"
            + "<style>.keep { fill: #00ff00 } rect.sheet { stroke: url(#g) }</style>"
            + "<defs><linearGradient id='g'><stop offset='0' stop-color='#ff0000'/></linearGradient><rect id='r' width='10' height='10' fill='url(#g)'/></defs>"
            + "<use xlink:href='#r' inkscape:label='x'/>"
            + "<rect class='keep' x='10' width='10' height='10' style='stroke: none; fill: #00ff00'/>"
            + $"<image x='20' width='10' height='10' preserveAspectRatio='none' href='data:image/png;base64,{png}'/>"
            + "</svg>");

        (byte[] svg, _, _) = SvgWriter.Sanitize(source, 30, null, FitMode.Inside);

        string text = Encoding.UTF8.GetString(svg);
        Assert.Contains("xlink:href=\"#r\"", text);
        Assert.Contains(".keep { fill: #00ff00 }", text);
        Assert.Contains("url(#g)", text);
        Assert.Contains("data:image/png;base64,", text);
        Assert.DoesNotContain("inkscape", text);
        using Image rendered = Render(svg);
        AssertColourNear(new double[] { 255, 0, 0 }, rendered.Getpoint(5, 5), 1);
        AssertColourNear(new double[] { 0, 255, 0 }, rendered.Getpoint(15, 5), 1);
        AssertColourNear(new double[] { 0, 0, 255 }, rendered.Getpoint(25, 5), 1);
    }

    [Fact]
    public void Sanitize_NestingAtTheDepthLimit_IsCleaned()
    {
        // The root is depth 0, so MaxDepth groups put the deepest one at the limit.
        string text = Encoding.UTF8.GetString(SvgWriter.Sanitize(Nested(SvgWriter.MaxDepth), 10, null, FitMode.Inside).Bytes);

        Assert.Equal(SvgWriter.MaxDepth, text.Split("<g>").Length - 1);
        Assert.DoesNotContain("alert", text);
    }

    [Fact]
    public void Sanitize_NestingDeeperThanTheLimit_IsRefused()
    {
        var error = Assert.Throws<ImageConversionException>(() => SvgWriter.Sanitize(Nested(1_000_000), 10, null, FitMode.Inside));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.Equal($"nests elements more than {SvgWriter.MaxDepth} levels deep, KoalaPic's limit", error.Message);
    }

    private static byte[] Nested(int depth)
    {
        var source = new StringBuilder($"<svg xmlns='{SvgNs}' viewBox='0 0 10 10'>");
        source.Insert(source.Length, "<g onclick='alert(1)'>", depth).Insert(source.Length, "</g>", depth).Append("</svg>");
        return Bytes(source.ToString());
    }

    [Fact]
    public void Sanitize_ManyUnterminatedUrls_AreDroppedInLinearTime()
    {
        // A pattern with nested quantifiers would backtrack for hours on this; the declaration is simply unsafe.
        string style = "fill:" + string.Concat(Enumerable.Repeat("url(   ", 50_000));
        byte[] source = Bytes($"<svg xmlns='{SvgNs}' viewBox='0 0 10 10'><rect width='10' height='10' style='{style}'/></svg>");

        string text = Encoding.UTF8.GetString(SvgWriter.Sanitize(source, 10, null, FitMode.Inside).Bytes);

        Assert.DoesNotContain("url(", text);
    }

    [Fact]
    public void Sanitize_XmlStylesheetInstruction_IsDropped()
    {
        byte[] source = Bytes($"<?xml-stylesheet type='text/css' href='{Loopback}/s.css'?><svg xmlns='{SvgNs}' viewBox='0 0 10 10'/>");

        string text = Encoding.UTF8.GetString(SvgWriter.Sanitize(source, 10, null, FitMode.Inside).Bytes);

        Assert.DoesNotContain("stylesheet", text);
        Assert.DoesNotContain("127.0.0.1", text);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    /// <summary>Renders SVG bytes with librsvg through libvips, checking that the SVG loader is the one used.</summary>
    private static Image Render(byte[] svg)
    {
        Assert.Equal("VipsForeignLoadSvgBuffer", Image.FindLoadBuffer(svg));
        using Image loaded = Image.NewFromBuffer(svg, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
        return loaded.Colourspace(Enums.Interpretation.Srgb).Cast(Enums.BandFormat.Uchar).CopyMemory();
    }
}
