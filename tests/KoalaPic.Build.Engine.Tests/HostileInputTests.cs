using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using Xunit.Abstractions;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Untrusted images through the whole batch: each bad file gets the one KP code of its class naming the item and the
/// file, with no output and no cache entry; no image makes KoalaPic read another file, write one, or open a
/// connection (a secret image whose pixels must never appear in an output, a loopback listener that must stay silent).
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly ITestOutputHelper output;
    private readonly BatchWorkspace ws = new();
    private readonly LoopbackListener listener = new();
    private readonly HostileFiles.Targets secrets;

    public HostileInputTests(ITestOutputHelper output)
    {
        this.output = output;

        // The secrets sit in the project, beside the hostile files and one folder up: where relative references reach.
        secrets = HostileFiles.WriteSecrets(ws.Source("secrets"), listener.Port);
        ws.WriteSource("img/secret.png", HostileFiles.SecretPng());
        ws.WriteSource("img/secret.svg", System.Text.Encoding.UTF8.GetBytes(HostileFiles.SecretSvg));
        ws.WriteSource("img/secret.css", System.Text.Encoding.UTF8.GetBytes(HostileFiles.SecretCss));
    }

    public void Dispose()
    {
        listener.Dispose();
        ws.Dispose();
    }

    private static long SecretPixelCount(byte[] encoded) => HostileFiles.SecretPixelCount(encoded);

    private List<ImageRequest> AddSources(IEnumerable<(string Name, byte[] Bytes)> files, string format = "png", string quality = "100")
    {
        var requests = new List<ImageRequest>();
        foreach (var (name, bytes) in files)
        {
            ws.WriteSource("img/" + name, bytes);
            requests.Add(ws.Request("img/" + name, ("Format", format), ("Quality", quality)));
        }

        return requests;
    }

    private void AssertNoOutputAndNoCacheEntry(ImageRequest request)
    {
        Assert.False(File.Exists(ws.OutputFile(request)), $"{request.ItemSpec} has an output");
        string key = ContentKey.Compute(File.ReadAllBytes(request.SourcePath), request.Options, VipsRuntime.EngineVersion);
        Assert.DoesNotContain(ws.CacheFiles(), f => Path.GetFileName(f).StartsWith(key, StringComparison.Ordinal));
        Assert.DoesNotContain(request.OutputPath, OutputState.Load(ws.StateFile).Outputs.Keys);
    }

    private static void AssertNamesItemAndFile(ItemResult item)
    {
        Diagnostic diagnostic = item.Diagnostic!;
        Assert.StartsWith($"KoalaImage '{item.Request.ItemSpec}': ", diagnostic.Message);
        Assert.Contains(item.Request.SourcePath, diagnostic.Message);
        Assert.Equal(item.Request.SourcePath, diagnostic.File);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
    }

    [Fact]
    public void SecretDetector_Control_FindsTheSecretInTheSecretImageAndInAnSvgThatPaintsIt()
    {
        // Without this control the no-secret assertions below could pass because the detector sees nothing.
        List<ImageRequest> requests = AddSources(new[]
        {
            ("control-secret.png", HostileFiles.SecretPng()),
            ("control-inline-css.svg", HostileFiles.ControlSvgShowingTheSecret()),
        });

        BatchResult result = ws.Run(requests);

        Assert.All(result.Items, i => Assert.True(i.Succeeded, i.Diagnostic?.Message));
        Assert.Equal(64 * 64, SecretPixelCount(File.ReadAllBytes(result.Items[0].OutputFile)));
        Assert.Equal(64 * 64, SecretPixelCount(File.ReadAllBytes(result.Items[1].OutputFile)));
        Assert.Equal(0, SecretPixelCount(Convert(FixtureBytes("concert.jpg"), ImageFormat.Png, width: 64, quality: 100).Bytes));
    }

    [Fact]
    public void ScriptFormatsBehindImageExtensions_AreNotAnImage_AndReadWriteAndConnectNothing()
    {
        List<ImageRequest> requests = AddSources(HostileFiles.ScriptPayloads(secrets));

        BatchResult result = ws.Run(requests);

        Assert.All(result.Items, item =>
        {
            Assert.False(item.Succeeded, $"{item.Request.ItemSpec} converted");
            Assert.Equal(DiagnosticCodes.NotAnImage, item.Diagnostic!.Code);
            AssertNamesItemAndFile(item);
            Assert.Contains("is not an image in a format KoalaPic reads", item.Diagnostic.Message);
            AssertNoOutputAndNoCacheEntry(item.Request);
        });
        Assert.Empty(ws.CacheFiles());
        Assert.False(File.Exists(secrets.MslWriteTarget), "an MSL script wrote a file");
        Assert.Equal(0, listener.Connections);
        listener.AssertItCountsAConnection();
    }

    [Fact]
    public void SvgAttacks_FileEntityHrefUseIncludeImport_NoOutputShowsASecretPixel_AndNoConnectionIsMade()
    {
        IReadOnlyList<(string Name, byte[] Bytes)> attacks = HostileFiles.SvgAttacks(secrets);
        var requests = AddSources(attacks).Concat(AddSources(attacks.Select(a => ("webp-" + a.Name, a.Bytes)), "webp", "90")).ToList();

        BatchResult result = ws.Run(requests);

        foreach (ItemResult item in result.Items)
        {
            // Each may render without the reference, or be refused as corrupt; it may not leak or crash.
            if (item.Succeeded)
            {
                long secretPixels = SecretPixelCount(File.ReadAllBytes(item.OutputFile));
                output.WriteLine($"{item.Request.ItemSpec}: converted, {secretPixels} secret pixels");
                Assert.True(secretPixels == 0, $"{item.Request.ItemSpec}: {secretPixels} pixels of the secret in its output");
            }
            else
            {
                output.WriteLine($"{item.Request.ItemSpec}: {item.Diagnostic!.Code} {item.Diagnostic.Message}");
                Assert.Contains(item.Diagnostic!.Code, new[] { DiagnosticCodes.CannotDecode, DiagnosticCodes.NotAnImage });
                AssertNamesItemAndFile(item);
                AssertNoOutputAndNoCacheEntry(item.Request);
            }
        }

        Assert.Equal(0, listener.Connections);
        listener.AssertItCountsAConnection();
    }

    [Fact]
    public void BrokenInputs_EachGetsExactlyOneErrorWithTheCodeOfItsClass_AndNoOutputOrCacheEntry()
    {
        byte[] photo = FixtureBytes("concert.jpg");
        var files = new List<(string Name, byte[] Bytes, string Code)>
        {
            ("empty.jpg", Array.Empty<byte>(), DiagnosticCodes.EmptySource),
            ("notes.jpg", "meeting notes, not a photo\n"u8.ToArray(), DiagnosticCodes.NotAnImage),
            ("page.png", "<!DOCTYPE html><html><body>404</body></html>"u8.ToArray(), DiagnosticCodes.NotAnImage),
            ("cut in half.jpg", photo.AsSpan(0, photo.Length / 2).ToArray(), DiagnosticCodes.CannotDecode),
            ("first 100 bytes.png", HostileFiles.SecretPng().AsSpan(0, 100).ToArray(), DiagnosticCodes.CannotDecode),
            ("truncated.jpg", FixtureBytes("truncated.jpg"), DiagnosticCodes.CannotDecode),
            ("corrupt-header.jpg", FixtureBytes("corrupt-header.jpg"), DiagnosticCodes.CannotDecode),
        };
        foreach (object[] row in ConverterErrorTests.BrokenPngs)
        {
            files.Add(((string)row[0], PngSuiteBytes((string)row[0]), (string)row[1]));
        }

        List<ImageRequest> requests = AddSources(files.Select(f => (f.Name, f.Bytes)), "webp", "80");
        ws.WriteSource("img/good.png", PngSuiteBytes("basn2c08.png"));
        requests.Add(ws.Request("img/good.png", ("Format", "webp")));

        BatchResult result = ws.Run(requests);

        for (int i = 0; i < files.Count; i++)
        {
            ItemResult item = result.Items[i];
            Assert.False(item.Succeeded, files[i].Name);
            Assert.True(files[i].Code == item.Diagnostic!.Code, $"{files[i].Name}: {item.Diagnostic.Code}, expected {files[i].Code}: {item.Diagnostic.Message}");
            AssertNamesItemAndFile(item);
            AssertNoOutputAndNoCacheEntry(item.Request);
        }

        Assert.Equal(files.Count, result.Failed);
        Assert.Equal(files.Count, result.Items.Count(i => i.Diagnostic != null));
        ItemResult good = result.Items[^1];
        Assert.True(good.Succeeded);
        Assert.Equal((32, 32), (Image.NewFromFile(good.OutputFile).Width, Image.NewFromFile(good.OutputFile).Height));
        Assert.Single(ws.CacheFiles());
    }

    [Fact]
    public void Bomb30000x30000Png_RejectedFromItsHeader_NamingItemFileSizeAndLimit()
    {
        byte[] bomb = HostileFiles.Bomb30000Png;
        Assert.InRange(bomb.Length, 500_000, 2_000_000);
        using (Image header = Image.NewFromBuffer(bomb))
        {
            Assert.Equal((30000, 30000, 1), (header.Width, header.Height, header.Bands));
        }

        List<ImageRequest> requests = AddSources(new[] { ("zeros.png", bomb) }, "webp", "80");

        BatchResult result = ws.Run(requests);

        ItemResult item = Assert.Single(result.Items);
        Assert.Equal(DiagnosticCodes.TooManyPixels, item.Diagnostic!.Code);
        AssertNamesItemAndFile(item);
        Assert.Contains("30000x30000 = 900,000,000 pixels, over the limit of 268,402,689 (KoalaPicMaxPixels)", item.Diagnostic.Message);
        AssertNoOutputAndNoCacheEntry(item.Request);
    }

    /// <summary>
    /// Refused before pixels are allocated, measured: the peak memory of a koalapic process given the bomb is compared
    /// with one given a small image. Decoding the bomb would need 900 MB for its pixels alone.
    /// </summary>
    [Fact]
    public void Bomb30000x30000Png_InTheKoalapicProcess_PeakMemoryStaysThatOfASmallImage()
    {
        ws.WriteSource("img/zeros.png", HostileFiles.Bomb30000Png);
        ws.WriteSource("img/small.png", HostileFiles.SecretPng());
        KoalapicRun small = Koalapic.Run(Koalapic.WriteJob(ws, "small.json", 1, new[] { BatchWorkspace.Item("img/small.png", ("Format", "webp")) }));
        KoalapicRun bomb = Koalapic.Run(Koalapic.WriteJob(ws, "bomb.json", 1, new[] { BatchWorkspace.Item("img/zeros.png", ("Format", "webp")) }));

        Assert.True(small.Result.Succeeded);
        Assert.Single(small.Result.Outputs);
        Assert.Equal(DiagnosticCodes.TooManyPixels, bomb.Result.Diagnostics.Single().Code);
        long smallPeak = small.Final.PeakMemoryBytes;
        long bombPeak = bomb.Final.PeakMemoryBytes;
        output.WriteLine($"koalapic peak memory: small image {smallPeak / 1_000_000} MB, 30000x30000 bomb {bombPeak / 1_000_000} MB");
        Assert.True(smallPeak > 10_000_000, $"implausible peak {smallPeak}");
        Assert.True(bombPeak < smallPeak + 100_000_000, $"the bomb raised the peak from {smallPeak / 1_000_000} MB to {bombPeak / 1_000_000} MB");
    }

    public static TheoryData<string> HeaderBombs => new() { "jpeg", "webp", "gif" };

    [Theory]
    [MemberData(nameof(HeaderBombs))]
    public void HeaderClaimingAHugeSize_JpegWebpGif_RejectedFromTheHeader(string format)
    {
        using Image small = (Image.Black(16, 16, bands: 3) + 128).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        (byte[] bomb, int width, int height) = format switch
        {
            "jpeg" => (HostileFiles.PatchJpegSize(small.JpegsaveBuffer(), 65000, 65000), 65000, 65000),
            // libwebp refuses more than 16383 a side ("bad image dimensions"), which is exactly the default limit:
            // the WebP bomb is checked against a lower KoalaPicMaxPixels.
            "webp" => (HostileFiles.PatchWebpLosslessSize(small.WebpsaveBuffer(lossless: true, keep: Enums.ForeignKeep.None), 16383, 16383), 16383, 16383),
            _ => (HostileFiles.PatchGifSize(small.GifsaveBuffer(), 65535, 65535), 65535, 65535),
        };
        using (Image header = Image.NewFromBuffer(bomb))
        {
            Assert.Equal((width, height), (header.Width, header.Height));
        }

        List<ImageRequest> requests = AddSources(new[] { ("bomb." + format, bomb) }, "png", "100");

        BatchResult result = ws.Run(requests, maxPixels: format == "webp" ? 100_000_000 : ImageConverter.DefaultMaxPixels);

        ItemResult item = Assert.Single(result.Items);
        Assert.True(DiagnosticCodes.TooManyPixels == item.Diagnostic?.Code, item.Diagnostic?.Message);
        Assert.Contains($"{width}x{height}", item.Diagnostic!.Message);
        AssertNamesItemAndFile(item);
        AssertNoOutputAndNoCacheEntry(item.Request);
    }

    [Fact]
    public void OddButGoodNames_NonAsciiAndSpaces_ConvertUnderTheirOwnNames()
    {
        var names = new[] { "ünïcödé café 写真.jpg", "two  spaces and émoji 🐨.jpg", "Ωμέγα/ünter ordner/foto.png", " leading space.png" };
        byte[] photo = FixtureBytes("Landscape_6.jpg"); // EXIF orientation 6
        var requests = new List<ImageRequest>();
        foreach (string name in names)
        {
            ws.WriteSource("img/" + name, photo);
            requests.Add(ws.Request("img/" + name, ("Format", "webp"), ("Width", "90")));
        }

        BatchResult result = ws.Run(requests);

        Assert.All(result.Items, item =>
        {
            Assert.True(item.Succeeded, item.Diagnostic?.Message);
            Assert.Equal(Path.ChangeExtension(item.Request.ItemSpec, ".webp"), item.Request.OutputPath);
            Assert.True(File.Exists(Path.Combine(ws.Output, item.Request.OutputPath)));
            using Image decoded = Image.NewFromFile(item.OutputFile);
            Assert.Equal((90, 68), (decoded.Width, decoded.Height)); // 600x450 upright
        });
    }
}
