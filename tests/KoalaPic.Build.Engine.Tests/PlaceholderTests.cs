using System.Text;
using System.Text.Json;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The Placeholder metadata: the dominant colour and the blurred data URI, made from the conversion's own decode and kept for no-op builds.</summary>
public class PlaceholderTests
{
    private const string BlurPrefix = "data:image/webp;base64,";

    private static readonly TimeSpan TestRacyWindow = TimeSpan.FromMilliseconds(50);

    private static EncodedImage ConvertWith(byte[] source, PlaceholderKind kind, ImageFormat format = ImageFormat.Webp, int? width = null, Colour? background = null) =>
        ImageConverter.ConvertWithPlaceholder(source, new ConversionOptions(format, ConversionOptions.DefaultQuality, width, null) { Background = background ?? Colour.White }, kind);

    /// <summary>Decodes a blur data URI with libvips and checks what every blur must be.</summary>
    private static Image DecodeBlur(string? uri)
    {
        Assert.NotNull(uri);
        Assert.StartsWith(BlurPrefix, uri);
        Assert.True(uri!.Length < 1024, $"the data URI has {uri.Length} characters");
        byte[] webp = System.Convert.FromBase64String(uri.Substring(BlurPrefix.Length));
        Assert.Equal("VipsForeignLoadWebpBuffer", Image.FindLoadBuffer(webp));
        Image image = Image.NewFromBuffer(webp, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
        Assert.InRange(Math.Max(image.Width, image.Height), 4, 32);
        return image;
    }

    private static (int R, int G, int B) ParseColour(string colour)
    {
        Assert.Matches("^#[0-9a-f]{6}$", colour);
        int Channel(int i) => System.Convert.ToInt32(colour.Substring(1 + 2 * i, 2), 16);
        return (Channel(0), Channel(1), Channel(2));
    }

    /// <summary>Within the 16-wide histogram bin: the colour is the centre of the bin that holds <paramref name="expected"/>.</summary>
    private static void AssertInBin((int R, int G, int B) expected, string actual)
    {
        var (r, g, b) = ParseColour(actual);
        Assert.Equal(expected.R / 16 * 16 + 8, r);
        Assert.Equal(expected.G / 16 * 16 + 8, g);
        Assert.Equal(expected.B / 16 * 16 + 8, b);
    }

    // ---- the converter ----

    [Theory]
    [InlineData("Landscape_1.jpg")]
    [InlineData("flowers.jpeg")]
    [InlineData("2569067123_aca715a2ee_o.jpg")]
    [InlineData("with-alpha.png")]
    public void Blur_OfARealImage_IsASmallWebpDataUriWithTheOutputsAspect(string fixture)
    {
        EncodedImage encoded = ConvertWith(FixtureBytes(fixture), PlaceholderKind.Blur, width: 480);

        Assert.NotNull(encoded.Placeholder);
        ParseColour(encoded.Placeholder!.Color);
        using Image blur = DecodeBlur(encoded.Placeholder.Blur);
        Assert.InRange(Math.Max(blur.Width, blur.Height), 16, 32);
        double outputAspect = (double)encoded.Width / encoded.Height;
        double blurAspect = (double)blur.Width / blur.Height;
        Assert.InRange(blurAspect, outputAspect * 0.85, outputAspect / 0.85);
    }

    [Fact]
    public void Blur_FollowsExifOrientation_AsTheImageIsDisplayed()
    {
        // Landscape_6.jpg is stored 450x600 with orientation 6: displayed 600x450.
        EncodedImage encoded = ConvertWith(FixtureBytes("Landscape_6.jpg"), PlaceholderKind.Blur);

        Assert.True(encoded.Width > encoded.Height);
        using Image blur = DecodeBlur(encoded.Placeholder!.Blur);
        Assert.True(blur.Width > blur.Height, $"blur is {blur.Width}x{blur.Height}");
    }

    [Fact]
    public void Blur_OfPureNoise_StillFitsUnder1024Characters()
    {
        using Image noise = (Image.Gaussnoise(900, 600, sigma: 120, mean: 128).Bandjoin(Image.Gaussnoise(900, 600, sigma: 120, mean: 128), Image.Gaussnoise(900, 600, sigma: 120, mean: 128)))
            .Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        byte[] png = noise.PngsaveBuffer(compression: 1);

        EncodedImage encoded = ConvertWith(png, PlaceholderKind.Blur);
        using Image blur = DecodeBlur(encoded.Placeholder!.Blur);
        Assert.Equal(3, blur.Bands);
    }

    [Fact]
    public void BlurDataUri_ShrinksUntilItFits_OnAnImageThatOverflowsAtFullSize()
    {
        // Unblurred per-pixel noise at 32 px and high quality is well over 1 KB; the engine's steps must bring it under.
        using Image noise = (Image.Gaussnoise(32, 24, sigma: 128, mean: 128).Bandjoin(Image.Gaussnoise(32, 24, sigma: 128, mean: 128), Image.Gaussnoise(32, 24, sigma: 128, mean: 128)))
            .Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb).CopyMemory();
        Assert.True(noise.WebpsaveBuffer(q: 90).Length > 1024);

        using Image blur = DecodeBlur(Placeholders.BlurDataUri(noise));
        Assert.InRange((double)blur.Width / blur.Height, 1.2, 1.5);
    }

    [Fact]
    public void DominantColour_OfAnImageThatIs70PercentOneColour_IsThatColour()
    {
        // 70% of the columns one colour, the rest a gradient of many others, in a lossless source.
        var main = (R: 200, G: 40, B: 90);
        using Image left = Solid(140, 100, main.R, main.G, main.B);
        using Image ramp = (Image.Xyz(60, 100)[0] * 4).Bandjoin(Image.Xyz(60, 100)[1] * 2, Image.Xyz(60, 100)[0] + 100)
            .Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        using Image joined = left.Join(ramp, Enums.Direction.Horizontal);
        byte[] png = joined.PngsaveBuffer();

        EncodedImage encoded = ConvertWith(png, PlaceholderKind.Color, ImageFormat.Png);

        AssertInBin(main, encoded.Placeholder!.Color);
        Assert.Null(encoded.Placeholder.Blur);
    }

    [Fact]
    public void DominantColour_IsNotTheMeanColour()
    {
        // 60% red and 40% blue: the mean (purple) is in no populated bin; the dominant colour is red.
        using Image red = Solid(60, 50, 250, 10, 10);
        using Image blue = Solid(40, 50, 10, 10, 250);
        using Image joined = red.Join(blue, Enums.Direction.Horizontal);

        EncodedImage encoded = ConvertWith(joined.PngsaveBuffer(), PlaceholderKind.Color, ImageFormat.Png);

        AssertInBin((250, 10, 10), encoded.Placeholder!.Color);
    }

    [Theory]
    [InlineData("flowers.jpeg")]
    [InlineData("Landscape_1.jpg")]
    [InlineData("concert.jpg")]
    public void DominantColour_OfARealPhoto_IsOneOfItsMostCommonColours(string fixture)
    {
        EncodedImage encoded = ConvertWith(FixtureBytes(fixture), PlaceholderKind.Color, ImageFormat.Png);
        var (r, g, b) = ParseColour(encoded.Placeholder!.Color);

        // Counted independently over every pixel of the lossless output: the chosen bin is among the most populated.
        using Image output = Rgb(Image.NewFromBuffer(encoded.Bytes, access: Enums.Access.Random));
        byte[] pixels = output.WriteToMemory<byte>();
        var counts = new int[16 * 16 * 16];
        for (int i = 0; i + 2 < pixels.Length; i += 3)
        {
            counts[(pixels[i] / 16 * 16 + pixels[i + 1] / 16) * 16 + pixels[i + 2] / 16]++;
        }

        int chosen = counts[(r / 16 * 16 + g / 16) * 16 + b / 16];
        int best = counts.Max();
        Assert.True(chosen >= best / 2, $"{encoded.Placeholder.Color} holds {chosen} pixels; the most populated bin holds {best}");
        Assert.True(chosen > pixels.Length / 3 / 100, $"{encoded.Placeholder.Color} holds only {chosen} of {pixels.Length / 3} pixels");
    }

    [Fact]
    public void Transparency_IsFlattenedOnTheItemsBackground()
    {
        EncodedImage encoded = ConvertWith(FixtureBytes("full-transparent.png"), PlaceholderKind.Blur, ImageFormat.Png, background: new Colour(255, 0, 0));

        Assert.Equal("#f80808", encoded.Placeholder!.Color);
        using Image blur = DecodeBlur(encoded.Placeholder.Blur);
        Assert.False(blur.HasAlpha());
        AssertColourNear(new[] { 255.0, 0, 0 }, Enumerable.Range(0, 3).Select(band => blur[band].Avg()).ToArray(), 12);
    }

    [Fact]
    public void GreyAndAnimatedAndSvgSources_GetAPlaceholderToo()
    {
        EncodedImage grey = ConvertWith(FixtureBytes("16-bit-grey-alpha.png"), PlaceholderKind.Blur, ImageFormat.Png);
        var (r, g, b) = ParseColour(grey.Placeholder!.Color);
        Assert.True(r == g && g == b, grey.Placeholder.Color);
        DecodeBlur(grey.Placeholder.Blur).Dispose();

        EncodedImage animated = ConvertWith(FixtureBytes("animated-loop-3.webp"), PlaceholderKind.Blur, ImageFormat.Webp);
        Assert.True(animated.Frames > 1);
        using Image frame = DecodeBlur(animated.Placeholder!.Blur);
        Assert.InRange((double)frame.Width / frame.Height, (double)animated.Width / animated.Height * 0.85, (double)animated.Width / animated.Height / 0.85);

        EncodedImage svg = ConvertWith(FixtureBytes("check.svg"), PlaceholderKind.Blur, ImageFormat.Svg);
        ParseColour(svg.Placeholder!.Color);
        DecodeBlur(svg.Placeholder.Blur).Dispose();
    }

    [Theory]
    [InlineData(ImageFormat.Webp)]
    [InlineData(ImageFormat.Avif)]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Png)]
    public void OutputBytes_AreTheSameWithOrWithoutAPlaceholder(ImageFormat format)
    {
        byte[] source = FixtureBytes("Landscape_6.jpg");

        EncodedImage without = ConvertWith(source, PlaceholderKind.None, format, width: 320);
        EncodedImage with = ConvertWith(source, PlaceholderKind.Blur, format, width: 320);

        Assert.Null(without.Placeholder);
        Assert.NotNull(with.Placeholder);
        if (format == ImageFormat.Avif)
        {
            // aom's bitstream depends on its thread count, libvips' process-wide concurrency, which tests running
            // alongside change (measured: this 320 px AVIF is 18,866 B at 1 thread, 18,958 at 2, 19,079 at 4, and the 1-
            // and 4-thread pixels differ by 3.1 per channel on average): the same picture, to that variation. The
            // other formats show byte for byte that the placeholder leaves the pipeline alone.
            using Image a = DecodeAs(without, format), b = DecodeAs(with, format);
            Assert.True(MeanAbsDiff(a, b) < 6.0, $"differs by {MeanAbsDiff(a, b):F2} per channel");
            return;
        }

        Assert.Equal(without.Bytes, with.Bytes);
    }

    [Fact]
    public void PlaceholderJson_HasExactlyColorAndBlur_AndNoBlurForColorOnly()
    {
        var blur = new ImagePlaceholder { Color = "#8a7f6e", Blur = BlurPrefix + "AAAA" };
        var colourOnly = ImagePlaceholder.For(blur, PlaceholderKind.Color)!;

        Assert.Null(colourOnly.Blur);
        Assert.Null(ImagePlaceholder.For(blur, PlaceholderKind.None));
        Assert.Null(ImagePlaceholder.For(colourOnly, PlaceholderKind.Blur));
        Assert.True(ImagePlaceholder.Satisfies(blur, PlaceholderKind.Color));
        Assert.False(ImagePlaceholder.Satisfies(colourOnly, PlaceholderKind.Blur));
        Assert.False(ImagePlaceholder.Satisfies(null, PlaceholderKind.Color));
        Assert.True(ImagePlaceholder.Satisfies(null, PlaceholderKind.None));
    }

    // ---- metadata ----

    [Theory]
    [InlineData("", PlaceholderKind.None)]
    [InlineData("none", PlaceholderKind.None)]
    [InlineData("NONE", PlaceholderKind.None)]
    [InlineData("color", PlaceholderKind.Color)]
    [InlineData(" Colour ", PlaceholderKind.Color)]
    [InlineData("blur", PlaceholderKind.Blur)]
    [InlineData("BLUR", PlaceholderKind.Blur)]
    public void PlaceholderMetadata_AcceptedValues(string value, PlaceholderKind expected)
    {
        var diagnostics = new List<Diagnostic>();
        ImageRequest? request = ImageRequest.TryCreate("img/a.png", "/p/img/a.png", "/p", name => name == "Placeholder" ? value : "", "/p/p.csproj", diagnostics);

        Assert.Empty(diagnostics);
        Assert.Equal(expected, request!.Placeholder);
    }

    [Theory]
    [InlineData("blurry")]
    [InlineData("true")]
    [InlineData("1")]
    [InlineData("color;blur")]
    public void PlaceholderMetadata_InvalidValue_IsKP1018NamingItemMetadataValueAndAcceptedValues(string value)
    {
        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<ImageRequest>? requests = ImageVariants.TryCreate("img/a.png", "/p/img/a.png", "/p", name => name switch { "Placeholder" => value, "Format" => "avif;webp", _ => "" }, "/p/p.csproj", diagnostics);

        Assert.Null(requests);
        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal("KP1018", error.Code);
        Assert.Equal(DiagnosticCodes.InvalidPlaceholder, error.Code);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal("/p/p.csproj", error.File);
        Assert.Contains("'img/a.png'", error.Message);
        Assert.Contains($"Placeholder=\"{value}\"", error.Message);
        Assert.Contains("color", error.Message);
        Assert.Contains("blur", error.Message);
        Assert.Contains("none", error.Message);
        Assert.Contains("Placeholder", ImageRequest.MetadataNames);
    }

    [Fact]
    public void Variants_OnlyTheFirstMakesThePlaceholder()
    {
        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<ImageRequest> requests = ImageVariants.TryCreate(
            "img/a.png", "/p/img/a.png", "/p", name => name switch { "Placeholder" => "blur", "Format" => "avif;webp", "Widths" => "960;480", _ => "" }, "/p/p.csproj", diagnostics)!;

        Assert.Equal(4, requests.Count);
        Assert.Equal("img/a-480w.avif", requests[0].OutputPath);
        Assert.Equal(new[] { PlaceholderKind.Blur, PlaceholderKind.None, PlaceholderKind.None, PlaceholderKind.None }, requests.Select(r => r.Placeholder));
    }

    // ---- the batch: persisted, reused, carried through ----

    private static IReadOnlyList<ImageRequest> Variants(BatchWorkspace ws, string relative, params (string Name, string Value)[] metadata)
    {
        var values = metadata.ToDictionary(m => m.Name, m => m.Value);
        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<ImageRequest>? requests = ImageVariants.TryCreate(relative, ws.Source(relative), ws.Project, name => values.TryGetValue(name, out string? v) ? v : "", Path.Combine(ws.Project, "p.csproj"), diagnostics);
        Assert.Empty(diagnostics);
        return requests!;
    }

    private static JsonElement[] ManifestImages(BatchWorkspace ws, IEnumerable<ItemResult> results)
    {
        using JsonDocument json = JsonDocument.Parse(ImageManifest.Create(ws.Project, results).ToJsonBytes());
        return json.RootElement.GetProperty("images").EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    [Fact]
    public void Manifest_HasThePlaceholderObjectPerSource_WithExactlyItsFields_AndNoneWhenNotAsked()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("wwwroot/img/blur.jpg", FixtureBytes("Landscape_1.jpg"));
        ws.WriteSource("wwwroot/img/colour.jpg", FixtureBytes("flowers.jpeg"));
        ws.WriteSource("wwwroot/img/plain.jpg", FixtureBytes("concert.jpg"));
        var requests = Variants(ws, "wwwroot/img/blur.jpg", ("Format", "avif;webp"), ("Widths", "120;240"), ("Placeholder", "blur"))
            .Concat(Variants(ws, "wwwroot/img/colour.jpg", ("Format", "webp"), ("Widths", "120;240"), ("Placeholder", "color")))
            .Concat(Variants(ws, "wwwroot/img/plain.jpg", ("Format", "webp"), ("Placeholder", "none")))
            .ToList();

        BatchResult result = ws.Run(requests);

        Assert.Equal(0, result.Failed);
        JsonElement[] images = ManifestImages(ws, result.Items);
        Assert.Equal(3, images.Length);

        JsonElement blur = images[0].GetProperty("placeholder");
        Assert.Equal(new[] { "color", "blur" }, blur.EnumerateObject().Select(p => p.Name));
        ParseColour(blur.GetProperty("color").GetString()!);
        DecodeBlur(blur.GetProperty("blur").GetString()).Dispose();
        Assert.Equal(4, images[0].GetProperty("variants").GetArrayLength());

        JsonElement colour = images[1].GetProperty("placeholder");
        Assert.Equal(new[] { "color" }, colour.EnumerateObject().Select(p => p.Name));
        ParseColour(colour.GetProperty("color").GetString()!);

        Assert.False(images[2].TryGetProperty("placeholder", out _));
        Assert.Equal(new[] { "source", "path", "variants" }, images[2].EnumerateObject().Select(p => p.Name));

        // The job report shows it on the variant that made it.
        JobReportItem first = JobReport.Item(result.Items[0]);
        Assert.Equal(result.Items[0].Placeholder, first.Placeholder);
        Assert.Null(JobReport.Item(result.Items[1]).Placeholder);
    }

    [Fact]
    public void Manifest_ThumbHashPlaceholder_HasTheColourTheHashAndItsDecodedPng()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("wwwroot/img/hash.png", FixtureBytes("with-alpha.png"));

        BatchResult result = ws.Run(Variants(ws, "wwwroot/img/hash.png", ("Format", "webp;png"), ("Widths", "60;120"), ("Placeholder", "thumbhash")).ToList());

        Assert.Equal(0, result.Failed);
        JsonElement placeholder = Assert.Single(ManifestImages(ws, result.Items)).GetProperty("placeholder");
        Assert.Equal(new[] { "color", "thumbhash", "thumbhash_data_uri" }, placeholder.EnumerateObject().Select(p => p.Name));
        ParseColour(placeholder.GetProperty("color").GetString()!);
        byte[] hash = System.Convert.FromBase64String(placeholder.GetProperty("thumbhash").GetString()!);
        Assert.True((hash[2] & 0x80) != 0, "the hash of an image with transparency has alpha");
        string uri = placeholder.GetProperty("thumbhash_data_uri").GetString()!;
        Assert.Equal(Placeholders.ThumbHashDataUri(hash), uri);
        using Image png = Image.NewFromBuffer(System.Convert.FromBase64String(uri.Substring("data:image/png;base64,".Length)));
        Assert.Equal(4, png.Bands);
    }

    [SkippableFact]
    public void UpToDateRun_GivesTheSamePlaceholder_WithoutReadingTheSource()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "The stat-first check needs the file change time, read on Linux only.");
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/photo.jpg", FixtureBytes("Landscape_1.jpg"));
        IReadOnlyList<ImageRequest> requests = Variants(ws, "img/photo.jpg", ("Format", "webp;avif"), ("Widths", "100;200"), ("Placeholder", "blur"));
        Thread.Sleep(TestRacyWindow * 3);
        var first = new ImageBatch(ws.Settings()) { RacyWindow = TestRacyWindow };
        BatchResult converted = first.Run(requests);
        Assert.Equal(4, converted.Converted);
        ImagePlaceholder made = converted.Items[0].Placeholder!;
        Assert.NotNull(made.Blur);
        Assert.Contains("\"placeholder\"", File.ReadAllText(ws.StateFile));

        var second = new ImageBatch(ws.Settings()) { RacyWindow = TestRacyWindow };
        BatchResult noOp = second.Run(requests);

        Assert.All(noOp.Items, i => Assert.Equal(ItemOutcome.UpToDate, i.Outcome));
        Assert.Equal(0, second.SourcesHashed);
        Assert.Equal(made, noOp.Items[0].Placeholder);
        Assert.Equal(
            ManifestImages(ws, converted.Items).Select(i => i.GetProperty("placeholder").GetRawText()),
            ManifestImages(ws, noOp.Items).Select(i => i.GetProperty("placeholder").GetRawText()));
    }

    [Fact]
    public void PlaceholderTurnedOn_ForAnUpToDateItem_ConvertsItAgain_WithoutChangingTheOutput()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/photo.jpg", FixtureBytes("Landscape_1.jpg"));
        ImageRequest plain = ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "200"));
        ws.Run(new[] { plain });
        byte[] before = File.ReadAllBytes(ws.OutputFile(plain));
        DateTime written = File.GetLastWriteTimeUtc(ws.OutputFile(plain));

        ImageRequest withColour = ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "200"), ("Placeholder", "color"));
        BatchResult result = ws.Run(new[] { withColour });

        ItemResult item = Assert.Single(result.Items);
        Assert.Equal(ItemOutcome.Converted, item.Outcome);
        Assert.NotNull(item.Placeholder);
        Assert.Equal(before, File.ReadAllBytes(ws.OutputFile(plain)));
        Assert.Equal(written, File.GetLastWriteTimeUtc(ws.OutputFile(plain)));

        // Colour first, blur later: blur needs more than the colour-only record holds.
        BatchResult blur = ws.Run(new[] { ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "200"), ("Placeholder", "blur")) });
        Assert.Equal(ItemOutcome.Converted, blur.Items[0].Outcome);
        Assert.Equal(item.Placeholder!.Color, blur.Items[0].Placeholder!.Color);
        Assert.NotNull(blur.Items[0].Placeholder!.Blur);

        // Back to colour only: up to date (the record holds both), and the blur is not handed out.
        BatchResult colourAgain = ws.Run(new[] { withColour });
        Assert.Equal(ItemOutcome.UpToDate, colourAgain.Items[0].Outcome);
        Assert.Equal(item.Placeholder, colourAgain.Items[0].Placeholder);
    }

    [Fact]
    public void CacheEntry_CarriesThePlaceholder_AnotherProjectGetsItWithoutConverting()
    {
        using var cache = new TempFolder();
        using var a = new BatchWorkspace(cache.Path);
        using var b = new BatchWorkspace(cache.Path);
        foreach (BatchWorkspace ws in new[] { a, b })
        {
            ws.WriteSource("img/photo.jpg", FixtureBytes("flowers.jpeg"));
        }

        BatchResult first = a.Run(new[] { a.Request("img/photo.jpg", ("Format", "webp"), ("Width", "160"), ("Placeholder", "blur")) });
        BatchResult second = b.Run(new[] { b.Request("img/photo.jpg", ("Format", "webp"), ("Width", "160"), ("Placeholder", "blur")) });

        Assert.Equal(ItemOutcome.Converted, first.Items[0].Outcome);
        Assert.Equal(ItemOutcome.FromCache, second.Items[0].Outcome);
        Assert.Equal(first.Items[0].Placeholder, second.Items[0].Placeholder);
        Assert.NotNull(second.Items[0].Placeholder!.Blur);
    }

    [Fact]
    public void CacheEntry_RoundTripsThePlaceholder_AndRejectsDamageToIt()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("ab", "abcdef.webp");
        byte[] image = Enumerable.Range(0, 3000).Select(i => (byte)(i * 13)).ToArray();
        var placeholder = new ImagePlaceholder { Color = "#8a7f6e", Blur = BlurPrefix + "UklGRg==" };

        CacheEntry.Write(path, "abcdef", image, new OutputFacts(40, 30, 77) { Placeholder = placeholder });

        Assert.Equal(image, CacheEntry.TryRead(path, "abcdef", out OutputFacts facts));
        Assert.Equal(new OutputFacts(40, 30, 77) { Placeholder = placeholder }, facts);

        CacheEntry.Write(path, "abcdef", image, new OutputFacts(40, 30, null) { Placeholder = placeholder with { Blur = null } });
        Assert.Equal(image, CacheEntry.TryRead(path, "abcdef", out facts));
        Assert.Equal(placeholder with { Blur = null }, facts.Placeholder);

        byte[] entry = File.ReadAllBytes(path);
        int inPlaceholder = image.Length + 2;
        File.WriteAllBytes(path, entry.Select((b, i) => i == inPlaceholder ? (byte)(b ^ 0x01) : b).ToArray());
        Assert.Null(CacheEntry.TryRead(path, "abcdef"));
    }

    /// <summary>The format before placeholders: image, width, height, quality (-1 for none), XxHash64(key, image and those), "KPCACHE2".</summary>
    private static byte[] PreviousFormatEntry(string key, byte[] image, int width, int height)
    {
        byte[] facts = BitConverter.GetBytes(width).Concat(BitConverter.GetBytes(height)).Concat(BitConverter.GetBytes(-1)).ToArray();
        var hash = new System.IO.Hashing.XxHash64();
        hash.Append(Encoding.UTF8.GetBytes(key));
        hash.Append(image);
        hash.Append(facts);
        return image.Concat(facts).Concat(BitConverter.GetBytes(hash.GetCurrentHashAsUInt64())).Concat(Encoding.ASCII.GetBytes("KPCACHE2")).ToArray();
    }

    [Fact]
    public void PreviousCacheFormat_IsStillUsed_ButAnEntryWithoutAPlaceholderIsConvertedAgainWhenOneIsAsked()
    {
        Assert.True(BitConverter.IsLittleEndian);
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/photo.jpg", FixtureBytes("Landscape_1.jpg"));
        ImageRequest plain = ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "200"));
        BatchResult made = ws.Run(new[] { plain });
        string entryPath = Assert.Single(ws.CacheFiles());
        string key = Path.GetFileNameWithoutExtension(entryPath);
        byte[] image = File.ReadAllBytes(ws.OutputFile(plain));
        File.WriteAllBytes(entryPath, PreviousFormatEntry(key, image, made.Items[0].Width!.Value, made.Items[0].Height!.Value));

        Assert.Equal(image, CacheEntry.TryRead(entryPath, key, out OutputFacts old));
        Assert.Null(old.Placeholder);
        Assert.Equal(made.Items[0].Width, old.Width);

        // Without a placeholder: the old entry serves (state and output gone, as on a fresh clone with a shared cache).
        File.Delete(ws.StateFile);
        File.Delete(ws.OutputFile(plain));
        BatchResult fromOld = ws.Run(new[] { plain });
        Assert.Equal(ItemOutcome.FromCache, fromOld.Items[0].Outcome);
        Assert.Equal(image, File.ReadAllBytes(ws.OutputFile(plain)));

        // With one: converted again, and the entry rewritten in the new format with the placeholder.
        File.Delete(ws.StateFile);
        BatchResult withPlaceholder = ws.Run(new[] { ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "200"), ("Placeholder", "color")) });
        Assert.Equal(ItemOutcome.Converted, withPlaceholder.Items[0].Outcome);
        Assert.Equal(image, CacheEntry.TryRead(entryPath, key, out OutputFacts rewritten));
        Assert.Equal(withPlaceholder.Items[0].Placeholder, rewritten.Placeholder);
        Assert.EndsWith("KPCACHE3", Encoding.ASCII.GetString(File.ReadAllBytes(entryPath).TakeLast(8).ToArray()));
    }

    [Fact]
    public void StateWithoutPlaceholder_FromAnOlderKoalaPic_MeansConvertAgainWhenOneIsAsked()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/photo.jpg", FixtureBytes("Landscape_1.jpg"));
        ImageRequest request = ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "200"), ("Placeholder", "blur"));
        ws.Run(new[] { request });
        string state = File.ReadAllText(ws.StateFile);
        Assert.Contains("\"placeholder\"", state);

        // Strip the placeholder from the state and the cache, as an older KoalaPic left them.
        OutputState old = OutputState.Load(ws.StateFile);
        foreach (OutputRecord record in old.Outputs.Values)
        {
            record.Placeholder = null;
        }

        old.Save(ws.StateFile);
        foreach (string entry in ws.CacheFiles())
        {
            File.Delete(entry);
        }

        BatchResult again = ws.Run(new[] { request });
        Assert.Equal(ItemOutcome.Converted, again.Items[0].Outcome);
        Assert.NotNull(again.Items[0].Placeholder!.Blur);
    }

    [Fact]
    public void OutOfProcess_CarriesThePlaceholderThroughTheKoalapicProcess()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/photo.jpg", FixtureBytes("Landscape_1.jpg"));
        (string, string)[] metadata = { ("Format", "webp;avif"), ("Width", "160"), ("Placeholder", "blur") };
        IReadOnlyList<ImageRequest> requests = Variants(ws, "img/photo.jpg", metadata);
        ImagePlaceholder expected = ImageConverter.ConvertWithPlaceholder(File.ReadAllBytes(ws.Source("img/photo.jpg")), requests[0].Options, PlaceholderKind.Blur).Placeholder!;

        KoalapicRun run = Koalapic.Run(Koalapic.WriteJob(ws, "job.json", 1, new[] { BatchWorkspace.Item("img/photo.jpg", metadata) }));

        Assert.Equal(0, run.ExitCode);
        Assert.True(run.Result.Succeeded);
        Assert.Equal(2, run.Result.Outputs.Count);
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(new JobLayout(Path.GetDirectoryName(ws.StateFile)!).ManifestFile));
        JsonElement image = Assert.Single(manifest.RootElement.GetProperty("images").EnumerateArray());
        Assert.Equal(expected.Color, image.GetProperty("placeholder").GetProperty("color").GetString());
        Assert.Equal(expected.Blur, image.GetProperty("placeholder").GetProperty("blur").GetString());
    }

    [Fact]
    public void OutOfProcess_CarriesTheThumbHashThroughTheKoalapicProcess()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/photo.jpg", FixtureBytes("flowers.jpeg"));
        (string, string)[] metadata = { ("Format", "webp"), ("Width", "160"), ("Placeholder", "thumbhash") };
        IReadOnlyList<ImageRequest> requests = Variants(ws, "img/photo.jpg", metadata);
        ImagePlaceholder expected = ImageConverter.ConvertWithPlaceholder(File.ReadAllBytes(ws.Source("img/photo.jpg")), requests[0].Options, PlaceholderKind.ThumbHash).Placeholder!;

        KoalapicRun run = Koalapic.Run(Koalapic.WriteJob(ws, "job.json", 1, new[] { BatchWorkspace.Item("img/photo.jpg", metadata) }));

        Assert.Equal(0, run.ExitCode);
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(new JobLayout(Path.GetDirectoryName(ws.StateFile)!).ManifestFile));
        JsonElement placeholder = Assert.Single(manifest.RootElement.GetProperty("images").EnumerateArray()).GetProperty("placeholder");
        Assert.Equal(expected.ThumbHash, placeholder.GetProperty("thumbhash").GetString());
        Assert.Equal(expected.ThumbHashDataUri, placeholder.GetProperty("thumbhash_data_uri").GetString());
    }
}
