using System.Diagnostics;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Hostile sources and file system objects, with real FIFOs, device links and folder links: each refused with its own
/// code, before it is read or written through, while the other images of the batch convert.
/// </summary>
public sealed class HardeningTests : IDisposable
{
    private readonly BatchWorkspace ws = new();

    public void Dispose() => ws.Dispose();

    private static byte[] SmallPng()
    {
        using Image xy = Image.Xyz(64, 48);
        using Image image = (xy[0] * 3).Bandjoin(xy[1] * 5, xy[0] + xy[1]).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        return image.PngsaveBuffer();
    }

    /// <summary>Runs the batch on a worker with a deadline: a source that blocks must fail the test, not hang the suite.</summary>
    private BatchResult RunWithin(TimeSpan deadline, IReadOnlyList<ImageRequest> requests, BatchSettings? settings = null)
    {
        var run = Task.Run(() => new ImageBatch(settings ?? ws.Settings()).Run(requests));
        Assert.True(run.Wait(deadline), $"the batch did not finish within {deadline.TotalSeconds} s: a source blocked it");
        return run.Result;
    }

    private static void AssertFailedWith(ItemResult result, string code, string mentions)
    {
        Assert.False(result.Succeeded);
        Assert.Equal(code, result.Diagnostic!.Code);
        Assert.Contains(mentions, result.Diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains($"KoalaImage '{result.Request.ItemSpec}'", result.Diagnostic.Message, StringComparison.Ordinal);
    }

    // ---- sources that are not regular files, and oversized ones ----

    [SkippableFact]
    public void Fifo_DevZeroLink_DevStdinLink_AreRefusedUnopened_AndTheGoodImageConverts()
    {
        Skip.If(OperatingSystem.IsWindows(), "FIFOs and /dev exist on Unix only");
        ws.WriteSource("img/good.png", SmallPng());
        string fifo = ws.Source("img/pipe.png");
        Directory.CreateDirectory(Path.GetDirectoryName(fifo)!);
        Assert.Equal(0, Process.Start("mkfifo", new[] { fifo })!.WaitForExitAndCode());
        File.CreateSymbolicLink(ws.Source("img/zero.png"), "/dev/zero");
        File.CreateSymbolicLink(ws.Source("img/stdin.png"), "/dev/stdin");
        var requests = new[] { "img/good.png", "img/pipe.png", "img/zero.png", "img/stdin.png" }.Select(s => ws.Request(s, ("Format", "webp"))).ToList();

        BatchResult result = RunWithin(TimeSpan.FromSeconds(60), requests);

        Assert.True(result.Items[0].Succeeded, result.Items[0].Diagnostic?.Message);
        using (Image good = Image.NewFromFile(result.Items[0].OutputFile))
        {
            Assert.Equal(64, good.Width);
        }

        AssertFailedWith(result.Items[1], DiagnosticCodes.NotARegularFile, "a FIFO (named pipe)");
        AssertFailedWith(result.Items[2], DiagnosticCodes.NotARegularFile, "a character device");
        Assert.Contains("/dev/zero", result.Items[2].Diagnostic!.Message, StringComparison.Ordinal);
        Assert.Equal(DiagnosticCodes.NotARegularFile, result.Items[3].Diagnostic!.Code);
        Assert.Single(Directory.GetFiles(ws.Output, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void SourceOverTheSizeCap_IsRefusedBeforeReading_WithKP2011_AndSmallerOnesConvert()
    {
        byte[] photo = FixtureBytes("Landscape_1.jpg");
        ws.WriteSource("img/big.jpg", photo);
        ws.WriteSource("img/small.png", SmallPng());
        var requests = new[] { ws.Request("img/big.jpg", ("Format", "webp")), ws.Request("img/small.png", ("Format", "webp")) };

        BatchResult result = new ImageBatch(ws.Settings() with { MaxSourceBytes = photo.Length - 1 }).Run(requests);

        AssertFailedWith(result.Items[0], DiagnosticCodes.SourceTooLarge, "KoalaPicMaxSourceBytes");
        Assert.Contains(photo.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), result.Items[0].Diagnostic!.Message, StringComparison.Ordinal);
        Assert.True(result.Items[1].Succeeded);
        Assert.True(DiagnosticCodes.IsBadImage(DiagnosticCodes.SourceTooLarge));

        // At the cap exactly, it is read and converted.
        BatchResult atCap = new ImageBatch(ws.Settings() with { MaxSourceBytes = photo.Length }).Run(requests);
        Assert.True(atCap.Items[0].Succeeded, atCap.Items[0].Diagnostic?.Message);
    }

    [SkippableFact]
    public void SourceFile_ReadsNoMoreThanTheBound_EvenFromADeviceBehindALink()
    {
        Skip.If(OperatingSystem.IsWindows(), "/dev/zero exists on Unix only");
        string link = Path.Combine(ws.Root, "zero.jpg");
        File.CreateSymbolicLink(link, "/dev/zero");

        var refused = Assert.Throws<SourceRefusedException>(() => SourceFile.ReadAllBytes(link, 1024));

        Assert.Equal(DiagnosticCodes.NotARegularFile, refused.Code);
        // An output file replaced by such a link is not read either: it is simply different.
        Assert.False(AtomicFile.HasContent(link, new byte[10]));
    }

    // ---- writes and deletions through a folder link in obj/ or bin/ ----

    [SkippableFact]
    public void OutputFolderLinkedOutside_NothingIsWrittenThroughIt_KP3002()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        string outside = Path.Combine(ws.Root, "precious");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(ws.Output);
        Directory.CreateSymbolicLink(Path.Combine(ws.Output, "img"), outside);
        ws.WriteSource("img/a.png", SmallPng());
        ws.WriteSource("b.png", SmallPng());

        BatchResult result = ws.Run(new[] { ws.Request("img/a.png", ("Format", "webp")), ws.Request("b.png", ("Format", "webp")) });

        AssertFailedWith(result.Items[0], DiagnosticCodes.OutputThroughLink, outside);
        Assert.Empty(Directory.GetFiles(outside));
        Assert.True(result.Items[1].Succeeded);
        Assert.True(File.Exists(Path.Combine(ws.Output, "b.webp")));
    }

    [SkippableFact]
    public void StaleOutputs_BehindAFolderLinkPlantedLater_AreNotDeleted_InObjOrBin()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        string bin = Path.Combine(ws.Root, "bin");
        var settings = ws.Settings() with { DeployedDirectory = bin };
        ws.WriteSource("img/a.png", SmallPng());
        ws.WriteSource("img/bad.png", SmallPng());
        var requests = new List<ImageRequest> { ws.Request("img/a.png", ("Format", "webp")), ws.Request("img/bad.png", ("Format", "webp")) };
        Assert.All(new ImageBatch(settings).Run(requests).Items, i => Assert.True(i.Succeeded));

        // img/ in obj/…/out and in bin/ become links to folders outside, holding files of the same names.
        string outsideObj = Path.Combine(ws.Root, "home-a");
        string outsideBin = Path.Combine(ws.Root, "home-b");
        foreach (string folder in new[] { outsideObj, outsideBin })
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "a.webp"), "keep me");
            File.WriteAllText(Path.Combine(folder, "bad.webp"), "keep me too");
        }

        Directory.Delete(Path.Combine(ws.Output, "img"), recursive: true);
        Directory.CreateSymbolicLink(Path.Combine(ws.Output, "img"), outsideObj);
        Directory.CreateDirectory(bin);
        Directory.CreateSymbolicLink(Path.Combine(bin, "img"), outsideBin);

        // a.png is no longer an item (its output is stale); bad.png is now broken (its old output would be removed).
        File.WriteAllText(ws.Source("img/bad.png"), "not an image");
        BatchResult next = new ImageBatch(settings).Run(new[] { requests[1] });

        Assert.False(next.Items[0].Succeeded);
        Assert.Empty(next.DeletedOutputs);
        foreach (string folder in new[] { outsideObj, outsideBin })
        {
            Assert.Equal("keep me", File.ReadAllText(Path.Combine(folder, "a.webp")));
            Assert.Equal("keep me too", File.ReadAllText(Path.Combine(folder, "bad.webp")));
        }
    }

    [SkippableFact]
    public void OwnedFolder_ItselfALink_IsWrittenInside_AndLinksInsideThatStayInsideAreFollowed()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        string realObj = Path.Combine(ws.Root, "other-disk", "obj");
        Directory.CreateDirectory(Path.Combine(realObj, "shared"));
        string linkedObj = Path.Combine(ws.Root, "linked-obj");
        Directory.CreateSymbolicLink(linkedObj, realObj);
        Directory.CreateSymbolicLink(Path.Combine(realObj, "img"), Path.Combine(realObj, "shared"));

        var folder = new OwnedFolder(linkedObj);

        Assert.Equal(Path.Combine(linkedObj, "img", "a.webp"), folder.Resolve("img/a.webp"));
        Assert.Equal(Path.Combine(linkedObj, "new", "deeper", "a.webp"), folder.Resolve("new/deeper/a.webp"));
        Assert.Throws<OutsideOwnedFolderException>(() => folder.Resolve("../escape.webp"));
    }

    // ---- a killed build leaves only whole files in the output folder ----

    [SkippableFact]
    public void NoTemporaryFileEverAppearsInTheOutputFolder()
    {
        Skip.If(!OperatingSystem.IsLinux(), "watched with inotify");
        ws.WriteSource("img/photo.jpg", FixtureBytes("Landscape_1.jpg"));
        var requests = Enumerable.Range(0, 6)
            .Select(i => ws.Request("img/photo.jpg", ("Format", "avif"), ("Width", (200 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)), ("Link", $"img/photo-{i}.avif")))
            .ToList();
        Directory.CreateDirectory(Path.Combine(ws.Output, "img"));
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var watcher = new FileSystemWatcher(ws.Output) { IncludeSubdirectories = true, InternalBufferSize = 64 * 1024 };
        watcher.Created += (_, e) => seen.Add(e.Name!);
        watcher.Renamed += (_, e) => seen.Add(e.Name!);
        watcher.Changed += (_, e) => seen.Add(e.Name!);
        watcher.EnableRaisingEvents = true;

        BatchResult result = ws.Run(requests);
        Thread.Sleep(500); // let inotify's last events arrive

        Assert.All(result.Items, i => Assert.True(i.Succeeded, i.Diagnostic?.Message));
        var finals = requests.Select(r => r.OutputPath.Replace('/', Path.DirectorySeparatorChar)).ToHashSet();
        Assert.NotEmpty(seen);
        Assert.All(seen, name => Assert.Contains(name, finals));
    }

    // ---- outputs larger than their sources ----

    [Fact]
    public void OutputLargerThanItsSource_IsWarnedAbout_AndReported_OnEveryBuild()
    {
        using (Image photo = Image.ThumbnailBuffer(FixtureBytes("Landscape_1.jpg"), 200))
        {
            ws.WriteSource("img/tight.jpg", photo.JpegsaveBuffer(q: 20));
        }

        ws.WriteSource("img/loose.png", SmallPng());
        var requests = new[]
        {
            ws.Request("img/tight.jpg", ("Format", "png")),
            ws.Request("img/tight.jpg", ("Format", "bmp")),
            ws.Request("img/loose.png", ("Format", "webp"), ("Quality", "60")),
        };

        foreach (BatchResult result in new[] { ws.Run(requests), ws.Run(requests) })
        {
            Diagnostic warning = ItemDiagnostics.LargerThanSource(result.Items[0])!;
            Assert.Equal(DiagnosticCodes.OutputLargerThanSource, warning.Code);
            Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
            Assert.Contains("KoalaImage 'img/tight.jpg'", warning.Message, StringComparison.Ordinal);
            Assert.Contains("img/tight.png", warning.Message, StringComparison.Ordinal);
            Assert.True(JobReport.Item(result.Items[0]).LargerThanSource);

            // bmp is larger by nature; a webp smaller than its png is what is meant.
            Assert.True(result.Items[1].OutputBytes > result.Items[1].SourceBytes);
            Assert.Null(ItemDiagnostics.LargerThanSource(result.Items[1]));
            Assert.Null(ItemDiagnostics.LargerThanSource(result.Items[2]));
            Assert.False(JobReport.Item(result.Items[2]).LargerThanSource);
        }
    }

    // ---- the output's pixels are bounded too ----

    [Theory]
    [InlineData("fill")]
    [InlineData("contain")]
    [InlineData("cover")]
    public void EnlargeIntoAHugeBox_IsRefusedBeforeAllocating_KP2012(string fit)
    {
        var options = new ConversionOptions(ImageFormat.Webp, 80, 60000, 60000) { Fit = Enum.Parse<FitMode>(fit, ignoreCase: true), Enlarge = true };
        var ex = Assert.Throws<ImageConversionException>(() => ImageConverter.Convert(SmallPng(), options));

        Assert.Equal(DiagnosticCodes.OutputTooManyPixels, ex.Code);
        // Named at the first step that is too large: the resized image before a crop (cover) or bars (contain).
        Assert.Matches(@"would become \d+x\d+ = [\d,]+ pixels, over the limit of 268,402,689 \(KoalaPicMaxPixels\)", ex.Message);
    }

    [Fact]
    public void SvgDrawnLargerThanTheLimit_IsRefused_AndALowerLimitAppliesToOutputs()
    {
        byte[] svg = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect width='10' height='10' fill='red'/></svg>"u8.ToArray();

        var ex = Assert.Throws<ImageConversionException>(() => ImageConverter.Convert(svg, new ConversionOptions(ImageFormat.Png, 80, 5000, null), maxPixels: 1_000_000));
        Assert.Equal(DiagnosticCodes.OutputTooManyPixels, ex.Code);

        EncodedImage fits = ImageConverter.Convert(svg, new ConversionOptions(ImageFormat.Png, 80, 1000, null), maxPixels: 1_000_000);
        Assert.Equal(1000, fits.Width);
    }

    [Fact]
    public void EnlargeInABatch_FailsThatItemOnly()
    {
        ws.WriteSource("img/a.png", SmallPng());
        var requests = new[]
        {
            ws.Request("img/a.png", ("Format", "webp"), ("Width", "60000"), ("Height", "60000"), ("Fit", "fill"), ("Enlarge", "true"), ("Link", "huge.webp")),
            ws.Request("img/a.png", ("Format", "webp"), ("Width", "128"), ("Enlarge", "true")),
        };

        BatchResult result = ws.Run(requests);

        AssertFailedWith(result.Items[0], DiagnosticCodes.OutputTooManyPixels, "KoalaPicMaxPixels");
        Assert.True(result.Items[1].Succeeded);
        Assert.Equal(128, result.Items[1].Width);
        Assert.False(File.Exists(Path.Combine(ws.Output, "huge.webp")));
    }
}
