using System.Diagnostics;
using System.Text;
using KoalaPic.Build.Tests;
using NetVips;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// Issue 5 as a new user tries it: one photo built to each of the 11 formats at Width="640", presets, smart quality,
/// an EXIF-rotated photo, a CMYK JPEG and an animated GIF, in one real build; every output read by a decoder other
/// than the one that wrote it where there is one (libvips for Magick.NET's output, poppler for PDF, libheif for HEIC).
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class AllFormatsTests : IDisposable
{
    private const string Photo = "img/photo.jpg"; // 2725x2225
    private readonly TestProject project;

    public AllFormatsTests(PackageFixture package)
    {
        project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("2569067123_aca715a2ee_o.jpg", Photo);
        project.AddImage("Landscape_6.jpg", "img/rotated.jpg"); // stored 450x600, EXIF orientation 6: upright 600x450
        project.AddImage("Landscape_1.jpg", "img/upright.jpg"); // the same picture, stored upright
        project.AddImage("Channel_digital_image_CMYK_color.jpg", "img/cmyk.jpg");
        project.AddImage("animated-loop-3.gif", "img/animated.gif");
    }

    public void Dispose() => project.Dispose();

    private string Bin(string relative) => Path.Combine(project.BinDirectory, relative);

    private static string Item(string link, string metadata) => $"<KoalaImage Include=\"{Photo}\" Link=\"{link}\" {metadata} />";

    [SkippableFact]
    public void OnePhoto_EveryFormatPresetAndOption_LandsInBinAsWhatItClaims()
    {
        bool heicEncoder = HeicToolsPresent(out string heicReason);
        var items = new StringBuilder();
        items.AppendLine(Item("formats/default", "Width=\"640\""));
        foreach (string format in new[] { "jpg", "png", "webp", "avif", "gif", "ico", "bmp", "tiff", "pdf", "svg" })
        {
            items.AppendLine(Item($"formats/photo.{format}", $"Format=\"{format}\" Width=\"640\""));
        }

        if (heicEncoder)
        {
            items.AppendLine(Item("formats/photo.heic", "Format=\"heic\" Width=\"640\""));
        }

        items.AppendLine(Item("quality/q1.jpg", "Format=\"jpg\" Width=\"640\" Quality=\"1\""));
        items.AppendLine(Item("quality/q100.jpg", "Format=\"jpg\" Width=\"640\" Quality=\"100\""));
        foreach (string level in new[] { "low", "medium", "high" })
        {
            items.AppendLine(Item($"smart/{level}.webp", $"Format=\"webp\" Width=\"1200\" SmartQuality=\"{level}\""));
        }

        items.AppendLine(Item("presets/story", "OptimizeFor=\"instagram-story\""));
        items.AppendLine(Item("presets/thumb", "OptimizeFor=\"youtube-thumbnail\""));
        items.AppendLine(Item("presets/favicon", "OptimizeFor=\"favicon\""));
        items.AppendLine("<KoalaImage Include=\"img/rotated.jpg;img/upright.jpg\" Format=\"png\" Quality=\"100\" />");
        items.AppendLine("<KoalaImage Include=\"img/cmyk.jpg\" Format=\"jpg\" />");
        items.AppendLine("<KoalaImage Include=\"img/animated.gif\" Format=\"webp\" />");
        project.SetKoalaImages(items.ToString());

        // Normal verbosity: the per-image lines, which carry smart quality's choice, have normal importance.
        DotNetResult result = project.Build("-v:n");

        Assert.True(result.Succeeded, result.ToString());
        // The only warnings (KP2013): the photos turned into full-size PNGs are larger than their JPEG sources, and so is
        // the animated GIF as an animated WebP (libwebp keeps every frame whole where the GIF stored only changed pixels).
        var warnings = System.Text.RegularExpressions.Regex.Matches(result.Output, @"warning (KP\d{4}): KoalaImage '([^']+)'").Select(m => (m.Groups[1].Value, m.Groups[2].Value)).Distinct().ToList();
        Assert.Equal(new[] { ("KP2013", "img/animated.gif"), ("KP2013", "img/rotated.jpg"), ("KP2013", "img/upright.jpg") }, warnings.OrderBy(w => w.Item2, StringComparer.Ordinal));
        Assert.Equal(3 * 2, System.Text.RegularExpressions.Regex.Matches(result.Output, "warning KP").Count); // log and closing summary

        // Every raster format libvips reads, 640 wide, and the format it claims.
        foreach (var (file, loader) in new[]
                 {
                     ("formats/default.jpg", "VipsForeignLoadJpegBuffer"),
                     ("formats/photo.jpg", "VipsForeignLoadJpegBuffer"),
                     ("formats/photo.png", "VipsForeignLoadPngBuffer"),
                     ("formats/photo.webp", "VipsForeignLoadWebpBuffer"),
                     ("formats/photo.avif", "VipsForeignLoadHeifBuffer"),
                     ("formats/photo.gif", "VipsForeignLoadNsgifBuffer"),
                     ("formats/photo.tiff", "VipsForeignLoadTiffBuffer"),
                     ("formats/photo.svg", "VipsForeignLoadSvgBuffer"),
                 })
        {
            ImageFile image = ImageFile.Read(Bin(file));
            Assert.Equal((file, loader, 640), (file, image.Loader, image.Width));
        }

        int expectedHeight = (int)Math.Round(2225 * 640 / 2725.0);
        IcoEntries(File.ReadAllBytes(Bin("formats/photo.ico")), out var icoSizes);
        Assert.Equal(new[] { 16, 32, 48, 64, 128, 256 }, icoSizes);
        Assert.Equal((640, expectedHeight), BmpSize(File.ReadAllBytes(Bin("formats/photo.bmp"))));
        AssertPdfPage(Bin("formats/photo.pdf"), 640, expectedHeight);
        if (heicEncoder)
        {
            byte[] heic = File.ReadAllBytes(Bin("formats/photo.heic"));
            Assert.Equal("heic", Encoding.ASCII.GetString(heic, 8, 4));
            string info = RunTool("heif-info", Bin("formats/photo.heic"));
            Assert.Contains("640x" + expectedHeight, info);
        }

        Assert.True(new FileInfo(Bin("quality/q1.jpg")).Length * 3 < new FileInfo(Bin("quality/q100.jpg")).Length);
        long low = new FileInfo(Bin("smart/low.webp")).Length;
        long medium = new FileInfo(Bin("smart/medium.webp")).Length;
        long high = new FileInfo(Bin("smart/high.webp")).Length;
        Assert.True(low < medium && medium < high, $"smart quality bytes: low {low}, medium {medium}, high {high}");
        Assert.Equal(3, result.KoalaPicLines.Count(l => l.Contains("(smart quality ", StringComparison.Ordinal)));

        Assert.Equal((1080, 1920), (ImageFile.Read(Bin("presets/story.jpg")).Width, ImageFile.Read(Bin("presets/story.jpg")).Height));
        Assert.Equal((1280, 720), (ImageFile.Read(Bin("presets/thumb.jpg")).Width, ImageFile.Read(Bin("presets/thumb.jpg")).Height));
        IcoEntries(File.ReadAllBytes(Bin("presets/favicon.ico")), out var faviconSizes);
        Assert.Equal(new[] { 16, 32, 48 }, faviconSizes);

        // The EXIF-rotated photo comes out upright: the same picture as the one stored upright.
        using (Image rotated = Image.NewFromFile(Bin("img/rotated.png")))
        using (Image upright = Image.NewFromFile(Bin("img/upright.png")))
        {
            Assert.Equal((600, 450), (rotated.Width, rotated.Height));
            // The fixtures are separately compressed copies (4.5-5.2 of 255 apart when right, see the engine's
            // orientation tests); the picture turned the wrong way round is over 20 away.
            double difference = (rotated.Cast(Enums.BandFormat.Int) - upright.Cast(Enums.BandFormat.Int)).Abs().Avg();
            double turned = (rotated.Cast(Enums.BandFormat.Int) - upright.Rot180().Cast(Enums.BandFormat.Int)).Abs().Avg();
            Assert.True(difference < 7 && turned > 20, $"rotated photo is {difference:F1} from the upright one, {turned:F1} from it upside down");
        }

        // The CMYK JPEG comes out as 3-band sRGB, not inverted: its average colour stays close to the source's own
        // ICC-converted colour.
        using (Image cmyk = Image.NewFromFile(Bin("img/cmyk.jpg")))
        using (Image reference = Image.NewFromFile(Paths.Fixture("Channel_digital_image_CMYK_color.jpg")).IccTransform("srgb"))
        {
            Assert.Equal((3, Enums.Interpretation.Srgb), (cmyk.Bands, cmyk.Interpretation));
            Assert.True((cmyk.Cast(Enums.BandFormat.Int) - reference.Cast(Enums.BandFormat.Int)).Abs().Avg() < 4, "CMYK colours converted through the profile");
        }

        using (Image animated = Image.NewFromFile(Bin("img/animated.webp"), kwargs: new VOption { { "n", -1 } }))
        using (Image source = Image.NewFromFile(Paths.Fixture("animated-loop-3.gif"), kwargs: new VOption { { "n", -1 } }))
        {
            Assert.Equal((int)source.Get("n-pages"), (int)animated.Get("n-pages"));
        }

        SystemRequirement.Require(heicEncoder, heicReason);
    }

    /// <summary>The sizes in an ICO directory, each entry checked to be a PNG or BMP image of that size.</summary>
    private static void IcoEntries(byte[] ico, out int[] sizes)
    {
        Assert.Equal(new byte[] { 0, 0, 1, 0 }, ico.Take(4).ToArray());
        int count = BitConverter.ToUInt16(ico, 4);
        sizes = new int[count];
        for (int i = 0; i < count; i++)
        {
            int entry = 6 + (16 * i);
            int width = ico[entry] == 0 ? 256 : ico[entry];
            int height = ico[entry + 1] == 0 ? 256 : ico[entry + 1];
            int length = BitConverter.ToInt32(ico, entry + 8);
            int offset = BitConverter.ToInt32(ico, entry + 12);
            Assert.Equal(width, height);
            byte[] image = ico.AsSpan(offset, length).ToArray();
            bool png = image.AsSpan(0, 4).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' });
            Assert.True(png || BitConverter.ToInt32(image, 4) == width, $"ICO entry {i} is a PNG or a DIB of width {width}");
            sizes[i] = width;
        }

        Array.Sort(sizes);
    }

    private static (int Width, int Height) BmpSize(byte[] bmp)
    {
        Assert.Equal("BM", Encoding.ASCII.GetString(bmp, 0, 2));
        return (BitConverter.ToInt32(bmp, 18), Math.Abs(BitConverter.ToInt32(bmp, 22)));
    }

    /// <summary>One page of width x height points, read by poppler's pdfinfo when installed, else from the MediaBox.</summary>
    private static void AssertPdfPage(string pdf, int width, int height)
    {
        Assert.StartsWith("%PDF-", Encoding.ASCII.GetString(File.ReadAllBytes(pdf), 0, 8));
        if (SystemRequirement.FindOnPath("pdfinfo") == null)
        {
            SystemRequirement.Require(false, "poppler's pdfinfo is missing (Debian/Ubuntu: sudo apt-get install poppler-utils)");
        }

        string info = RunTool("pdfinfo", pdf);
        Assert.Matches(@"Pages:\s+1\b", info);
        Assert.Matches($@"Page size:\s+{width}(\.0+)? x {height}(\.0+)? pts", info);
    }

    private static bool HeicToolsPresent(out string reason)
    {
        reason = "libheif with its x265 HEVC encoder and heif-info are missing (Debian/Ubuntu: sudo apt-get install libheif1 libheif-examples; Debian 13+/Ubuntu 24.04+: also libheif-plugin-x265)";
        if (SystemRequirement.FindOnPath("heif-info") == null || SystemRequirement.FindOnPath("heif-enc") == null)
        {
            return false;
        }

        // heif-enc lists its encoders; HEVC output needs x265 among them.
        string encoders = RunTool("heif-enc", "--list-encoders", allowFailure: true);
        return encoders.Contains("x265", StringComparison.OrdinalIgnoreCase);
    }

    private static string RunTool(string tool, string argument, bool allowFailure = false)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(allowFailure || process.ExitCode == 0, $"{tool} {argument}: exit {process.ExitCode}\n{output}");
        return output;
    }
}
