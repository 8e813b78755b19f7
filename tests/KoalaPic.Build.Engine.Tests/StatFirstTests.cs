using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// The stat-first up-to-date check: a settled, unchanged source is not read again; any write since its stamp is
/// caught through the change time, even with the size and the last write time put back as they were.
/// </summary>
public class StatFirstTests
{
    // Longer than any kernel timestamp tick (≤ 10 ms): the same argument as the production 2 s window, made faster.
    private static readonly TimeSpan TestRacyWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>An uncompressed TIFF: every colour gives a file of exactly the same size.</summary>
    private static byte[] SolidTiff(double r, double g, double b)
    {
        using Image image = (Image.Black(40, 30, bands: 3) + new[] { r, g, b }).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        return image.TiffsaveBuffer(compression: Enums.ForeignTiffCompression.None);
    }

    private static ImageBatch Batch(BatchWorkspace ws) => new(ws.Settings()) { RacyWindow = TestRacyWindow };

    /// <summary>Waits out the test window, so the sources' last change lies before it when the batch stamps them.</summary>
    private static void LetSettle() => Thread.Sleep(TestRacyWindow * 3);

    private static void RequireChangeTime() =>
        Skip.IfNot(OperatingSystem.IsLinux(), "The stat-first check needs the file change time, read on Linux only; elsewhere every source is hashed (as these tests' other cases check).");

    private static double[] OutputColour(BatchWorkspace ws, ImageRequest request)
    {
        using Image output = Image.NewFromFile(ws.OutputFile(request));
        using Image rgb = Rgb(output);
        return Enumerable.Range(0, 3).Select(band => rgb[band].Avg()).ToArray();
    }

    [SkippableFact]
    public void NoOpRun_ReadsNoSource_WhenEverySourceIsSettledAndUnchanged()
    {
        RequireChangeTime();
        using var ws = new BatchWorkspace();
        ws.WriteSource("a.tif", SolidTiff(200, 20, 20));
        ws.WriteSource("b.tif", SolidTiff(20, 200, 20));
        var requests = new List<ImageRequest> { ws.Request("a.tif", ("Format", "png")), ws.Request("b.tif", ("Format", "webp"), ("Quality", "90")) };
        LetSettle();
        ImageBatch first = Batch(ws);
        BatchResult converted = first.Run(requests);
        Assert.Equal(2, converted.Converted);
        Assert.Equal(2, first.SourcesHashed);

        ImageBatch second = Batch(ws);
        BatchResult noOp = second.Run(requests);

        Assert.Equal(new[] { ItemOutcome.UpToDate, ItemOutcome.UpToDate }, noOp.Items.Select(i => i.Outcome));
        Assert.Equal(0, second.SourcesHashed);
        Assert.Equal(converted.Items.Select(i => i.OutputBytes), noOp.Items.Select(i => i.OutputBytes));
        Assert.All(noOp.Items, item => Assert.True(File.Exists(item.OutputFile)));
    }

    [SkippableFact]
    public void RewrittenSource_WithSameSizeAndRestoredWriteTime_IsConvertedAgain()
    {
        RequireChangeTime();
        using var ws = new BatchWorkspace();
        byte[] red = SolidTiff(220, 10, 10);
        byte[] blue = SolidTiff(10, 10, 220);
        Assert.Equal(red.Length, blue.Length);
        Assert.False(red.AsSpan().SequenceEqual(blue));
        ws.WriteSource("photo.tif", red);
        string path = ws.Source("photo.tif");
        ImageRequest request = ws.Request("photo.tif", ("Format", "png"));
        LetSettle();
        Batch(ws).Run(new[] { request });
        AssertColourNear(new[] { 220.0, 10, 10 }, OutputColour(ws, request), 2);
        DateTime writeTime = File.GetLastWriteTimeUtc(path);

        // What a tool that preserves timestamps does (cp -p, rsync -t, tar, an editor that restores them): the
        // size and last write time are exactly those the state recorded, only the change time tells.
        File.WriteAllBytes(path, blue);
        File.SetLastWriteTimeUtc(path, writeTime);
        Assert.Equal(red.Length, new FileInfo(path).Length);
        Assert.Equal(writeTime, File.GetLastWriteTimeUtc(path));
        ImageBatch next = Batch(ws);
        BatchResult result = next.Run(new[] { request });

        Assert.Equal(ItemOutcome.Converted, Assert.Single(result.Items).Outcome);
        Assert.Equal(1, next.SourcesHashed);
        AssertColourNear(new[] { 10.0, 10, 220 }, OutputColour(ws, request), 2);
    }

    [SkippableFact]
    public void SourceReplacedByRename_WithSameSizeAndWriteTime_IsConvertedAgain()
    {
        RequireChangeTime();
        using var ws = new BatchWorkspace();
        byte[] green = SolidTiff(10, 220, 10);
        byte[] grey = SolidTiff(120, 120, 120);
        ws.WriteSource("photo.tif", green);
        string path = ws.Source("photo.tif");
        ImageRequest request = ws.Request("photo.tif", ("Format", "png"));
        LetSettle();
        Batch(ws).Run(new[] { request });
        DateTime writeTime = File.GetLastWriteTimeUtc(path);

        // An editor's atomic save: a new file with the old timestamps moved over the source.
        string replacement = ws.Source("photo.tif.new");
        File.WriteAllBytes(replacement, grey);
        File.SetLastWriteTimeUtc(replacement, writeTime);
        File.Move(replacement, path, overwrite: true);
        ImageBatch next = Batch(ws);
        BatchResult result = next.Run(new[] { request });

        Assert.Equal(ItemOutcome.Converted, Assert.Single(result.Items).Outcome);
        AssertColourNear(new[] { 120.0, 120, 120 }, OutputColour(ws, request), 2);
    }

    [Fact]
    public void SourceWrittenJustBeforeTheBuild_IsHashedAgainByTheNextBuild()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("a.tif", SolidTiff(90, 90, 200));
        ImageRequest request = ws.Request("a.tif", ("Format", "png"));

        // With the production window (2 s), a file written a moment ago is "racy": its stamp is not trusted yet.
        new ImageBatch(ws.Settings()).Run(new[] { request });
        var next = new ImageBatch(ws.Settings());
        BatchResult result = next.Run(new[] { request });

        Assert.Equal(ItemOutcome.UpToDate, Assert.Single(result.Items).Outcome);
        Assert.Equal(1, next.SourcesHashed);
    }

    [Fact]
    public void ChangedSettings_ForAnUnchangedSource_AreConvertedAgain()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("a.tif", SolidTiff(90, 200, 90));
        LetSettle();
        Batch(ws).Run(new[] { ws.Request("a.tif", ("Format", "webp"), ("Quality", "80")) });
        ImageBatch next = Batch(ws);
        BatchResult result = next.Run(new[] { ws.Request("a.tif", ("Format", "webp"), ("Quality", "40")) });

        Assert.Equal(ItemOutcome.Converted, Assert.Single(result.Items).Outcome);
        Assert.Equal(1, next.SourcesHashed);
    }

    [Fact]
    public void TouchedSource_IsUpToDate_AndItsNewStampIsRecorded()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("a.tif", SolidTiff(30, 60, 90));
        ImageRequest request = ws.Request("a.tif", ("Format", "png"));
        LetSettle();
        Batch(ws).Run(new[] { request });
        DateTime outputTime = File.GetLastWriteTimeUtc(ws.OutputFile(request));
        File.SetLastWriteTimeUtc(ws.Source("a.tif"), DateTime.UtcNow.AddMinutes(-5));
        LetSettle();

        ImageBatch touched = Batch(ws);
        BatchResult result = touched.Run(new[] { request });
        ImageBatch after = Batch(ws);
        BatchResult again = after.Run(new[] { request });

        Assert.Equal(ItemOutcome.UpToDate, Assert.Single(result.Items).Outcome);
        Assert.Equal(1, touched.SourcesHashed);
        Assert.Equal(ItemOutcome.UpToDate, Assert.Single(again.Items).Outcome);
        Assert.Equal(OperatingSystem.IsLinux() ? 0 : 1, after.SourcesHashed);
        Assert.Equal(outputTime, File.GetLastWriteTimeUtc(ws.OutputFile(request)));
    }

    [Fact]
    public void BundledLibvipsVersion_IsTheLibvipsThatLoads()
    {
        // The bundled version names the NuGet folder the natives are loaded from; here that is the libvips that loads.
        Assert.Equal(VipsRuntime.LibvipsVersion, VipsRuntime.BundledLibvipsVersion);
        Assert.EndsWith("+libvips-" + VipsRuntime.LibvipsVersion, VipsRuntime.EngineVersion);
    }

    /// <summary>
    /// The key names the libvips that loaded, as it reports itself at run time, not the one the engine was built
    /// against: a KoalaPicLibvipsDirectory of another libvips gives other keys, so its outputs are not shared.
    /// </summary>
    [Fact]
    public void ContentKey_NamesTheLibvipsThatLoaded_AnotherLibvipsGivesOtherKeys()
    {
        VipsRuntime.EnsureInitialized();
        string loaded = string.Join(".", NetVips.NetVips.Version(0), NetVips.NetVips.Version(1), NetVips.NetVips.Version(2));
        byte[] source = SolidTiff(10, 20, 30);
        var options = new ConversionOptions(ImageFormat.Webp, 80, null, null);

        Assert.Equal(loaded, VipsRuntime.LibvipsVersion);
        Assert.Equal(VipsRuntime.EngineVersionWith(loaded), VipsRuntime.EngineVersion);
        Assert.NotEqual(
            ContentKey.Compute(source, options, VipsRuntime.EngineVersion),
            ContentKey.Compute(source, options, VipsRuntime.EngineVersionWith(loaded + "-other")));
    }
}
