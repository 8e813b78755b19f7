using System.Collections.Concurrent;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>A project folder, output folder, state file and cache in a temporary folder, with small source images.</summary>
internal sealed class BatchWorkspace : IDisposable
{
    private readonly TempFolder root = new();

    public BatchWorkspace(string? cacheDirectory = null, string? deployedDirectory = null)
    {
        Project = root.Combine("project");
        Output = root.Combine("obj", "koalapic", "out");
        StateFile = root.Combine("obj", "koalapic", "state.json");
        Cache = cacheDirectory ?? root.Combine("cache");
        Deployed = deployedDirectory;
        Directory.CreateDirectory(Project);
    }

    public string Project { get; }

    public string Output { get; }

    public string StateFile { get; }

    public string Cache { get; }

    public string? Deployed { get; }

    public string Root => root.Path;

    public string Source(string relative) => Path.Combine(Project, relative);

    public void WriteSource(string relative, byte[] bytes)
    {
        string path = Source(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    public ImageRequest Request(string relative, params (string Name, string Value)[] metadata)
    {
        var diagnostics = new List<Diagnostic>();
        var values = metadata.ToDictionary(m => m.Name, m => m.Value);
        ImageRequest? request = ImageRequest.TryCreate(
            relative, Source(relative), Project, name => values.TryGetValue(name, out string? v) ? v : "", Path.Combine(Project, "p.csproj"), diagnostics);
        Assert.Empty(diagnostics);
        return request!;
    }

    /// <summary>A KoalaImage item as written: its Include and metadata.</summary>
    public static JobItem Item(string relative, params (string Name, string Value)[] metadata) =>
        new() { ItemSpec = relative, Metadata = metadata.ToDictionary(m => m.Name, m => m.Value, StringComparer.OrdinalIgnoreCase) };

    public ImageRequest Request(JobItem item) => Request(item.ItemSpec, item.Metadata.Select(m => (m.Key, m.Value)).ToArray());

    /// <summary>The whole job over this workspace: obj/koalapic/ holds out/ and state.json, as the batch's settings say.</summary>
    public JobInput Job(IEnumerable<JobItem> items, int parallelism = 2) => new()
    {
        Items = items.ToList(),
        Properties = { [JobSettings.MaxParallelism] = parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        ProjectDirectory = Project,
        ProjectFile = Path.Combine(Project, "p.csproj"),
        IntermediateDirectory = Path.GetDirectoryName(StateFile)!,
        CacheDirectory = Cache,
        OutputDirectory = Deployed ?? "",
    };

    public BatchSettings Settings(int parallelism = 2, long maxPixels = ImageConverter.DefaultMaxPixels) =>
        new(Output, StateFile, Cache, parallelism, maxPixels, DeployedDirectory: Deployed);

    public BatchResult Run(IReadOnlyList<ImageRequest> requests, int parallelism = 2, Action<ItemResult, int>? onItemDone = null, CancellationToken cancellationToken = default, long maxPixels = ImageConverter.DefaultMaxPixels) =>
        new ImageBatch(Settings(parallelism, maxPixels)).Run(requests, onItemDone, cancellationToken);

    public string OutputFile(ImageRequest request) => Path.Combine(Output, request.OutputPath);

    public string[] CacheFiles() => Directory.Exists(Cache) ? Directory.GetFiles(Cache, "*", SearchOption.AllDirectories) : Array.Empty<string>();

    /// <summary>Every file under the output folder with its last write time.</summary>
    public Dictionary<string, DateTime> OutputTimes() =>
        Directory.GetFiles(Output, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);

    public string[] TemporaryFiles() =>
        Directory.GetFiles(Root, "*.tmp", SearchOption.AllDirectories);

    public void Dispose() => root.Dispose();
}

/// <summary>Content-hash incremental conversion: what is converted, taken from the cache, kept, deleted or refused.</summary>
public class ImageBatchTests
{
    private static readonly Lazy<byte[]> PhotoJpg = new(() =>
    {
        using Image photo = Image.ThumbnailBuffer(FixtureBytes("Landscape_1.jpg"), 120);
        return photo.JpegsaveBuffer(q: 90);
    });

    internal static byte[] GradientPng(int seed)
    {
        using Image xy = Image.Xyz(96, 64);
        using Image image = (xy[0] * 2 + seed).Bandjoin(xy[1] * 3, xy[0] + xy[1] + seed * 7).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        return image.PngsaveBuffer();
    }

    private static byte[] SolidWebp(double r, double g, double b)
    {
        using Image image = (Image.Black(80, 80, bands: 3) + new[] { r, g, b }).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        return image.WebpsaveBuffer(lossless: true);
    }

    /// <summary>Three sources of different formats, converted to three formats at a small width.</summary>
    private static List<ImageRequest> ThreeImages(BatchWorkspace ws)
    {
        ws.WriteSource("img/photo.jpg", PhotoJpg.Value);
        ws.WriteSource("img/gradient.png", GradientPng(0));
        ws.WriteSource("solid.webp", SolidWebp(200, 30, 60));
        return new List<ImageRequest>
        {
            ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "48")),
            ws.Request("img/gradient.png", ("Format", "png"), ("Width", "48")),
            ws.Request("solid.webp", ("Width", "40")),
        };
    }

    private static void AssertOutcomes(BatchResult result, params ItemOutcome[] expected) =>
        Assert.Equal(expected, result.Items.Select(i => i.Outcome));

    [Fact]
    public void FirstRun_ThreeImages_ConvertsAllWritesOutputsStateAndCache()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        var reported = new ConcurrentBag<(string Output, int Done)>();

        BatchResult result = ws.Run(requests, onItemDone: (item, done) => reported.Add((item.Request.OutputPath, done)));

        AssertOutcomes(result, ItemOutcome.Converted, ItemOutcome.Converted, ItemOutcome.Converted);
        Assert.Equal((3, 0, 0), (result.Converted, result.UpToDate, result.Failed));
        Assert.Empty(result.DeletedOutputs);
        Assert.Equal(new[] { 1, 2, 3 }, reported.Select(r => r.Done).OrderBy(d => d));
        Assert.Equal(requests.Select(r => r.OutputPath).OrderBy(p => p), reported.Select(r => r.Output).OrderBy(p => p));

        var expectations = new[] { (ImageFormat.Webp, 48, 36), (ImageFormat.Png, 48, 32), (ImageFormat.Jpeg, 40, 40) };
        for (int i = 0; i < 3; i++)
        {
            ItemResult item = result.Items[i];
            Assert.Same(requests[i], item.Request);
            Assert.True(item.Succeeded);
            Assert.Null(item.Diagnostic);
            Assert.Equal(ws.OutputFile(requests[i]), item.OutputFile);
            byte[] bytes = File.ReadAllBytes(item.OutputFile);
            Assert.Equal(bytes.Length, item.OutputBytes);
            Assert.Equal(new FileInfo(requests[i].SourcePath).Length, item.SourceBytes);
            (ImageFormat format, int width, int height) = expectations[i];
            using Image decoded = DecodeAs(new EncodedImage(bytes, width, height), format);
        }

        Assert.Equal(new[] { "img/gradient.png", "img/photo.webp", "solid.jpg" }, Directory.GetFiles(ws.Output, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(ws.Output, f).Replace('\\', '/')).OrderBy(f => f, StringComparer.Ordinal));
        Assert.True(File.Exists(ws.StateFile));
        Assert.Equal(requests.Select(r => r.OutputPath).OrderBy(p => p, StringComparer.Ordinal), OutputState.Load(ws.StateFile).Outputs.Keys.OrderBy(p => p, StringComparer.Ordinal));
        Assert.Equal(3, ws.CacheFiles().Length);
        Assert.Empty(ws.TemporaryFiles());
    }

    [Fact]
    public void SecondRun_NothingChanged_AllUpToDateAndNoFileRewritten()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        Dictionary<string, DateTime> before = ws.OutputTimes();
        DateTime stateBefore = File.GetLastWriteTimeUtc(ws.StateFile);

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.UpToDate);
        Assert.Equal((0, 3), (result.Converted, result.UpToDate));
        Assert.Equal(before, ws.OutputTimes());
        Assert.Equal(stateBefore, File.GetLastWriteTimeUtc(ws.StateFile));
        Assert.All(result.Items, i => Assert.Equal(new FileInfo(i.OutputFile).Length, i.OutputBytes));
        Assert.Empty(ws.TemporaryFiles());
    }

    [Fact]
    public void TouchedSource_TimestampOnly_NothingConvertedNothingRewritten()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        Dictionary<string, DateTime> before = ws.OutputTimes();
        foreach (ImageRequest request in requests)
        {
            File.SetLastWriteTimeUtc(request.SourcePath, DateTime.UtcNow.AddHours(1));
        }

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.UpToDate);
        Assert.Equal(before, ws.OutputTimes());
    }

    [Fact]
    public void EditedSource_OneOfThree_OnlyItIsConverted()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        Dictionary<string, DateTime> before = ws.OutputTimes();
        ws.WriteSource("solid.webp", SolidWebp(10, 220, 30)); // red-ish -> green

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.Converted);
        string changed = ws.OutputFile(requests[2]);
        Assert.All(before.Where(p => p.Key != changed), p => Assert.Equal(p.Value, File.GetLastWriteTimeUtc(p.Key)));
        using Image output = Image.NewFromBuffer(File.ReadAllBytes(changed));
        double[] pixel = output.Getpoint(20, 20);
        Assert.True(pixel[1] > 180 && pixel[0] < 50, $"the output shows the new source: {string.Join(",", pixel)}");
    }

    [Theory]
    [InlineData("Quality", "40")]
    [InlineData("Width", "24")]
    [InlineData("Height", "10")]
    [InlineData("Format", "avif")]
    public void ChangedOption_OneItem_ReconvertsOnlyIt(string name, string value)
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        byte[] oldBytes = File.ReadAllBytes(ws.OutputFile(requests[0]));
        var changed = new List<ImageRequest>(requests);
        var metadata = new List<(string, string)> { ("Format", "webp"), ("Width", "48") };
        metadata.RemoveAll(m => m.Item1 == name);
        metadata.Add((name, value));
        changed[0] = ws.Request("img/photo.jpg", metadata.ToArray());

        BatchResult result = ws.Run(changed);

        AssertOutcomes(result, ItemOutcome.Converted, ItemOutcome.UpToDate, ItemOutcome.UpToDate);
        byte[] newBytes = File.ReadAllBytes(ws.OutputFile(changed[0]));
        Assert.NotEqual(oldBytes, newBytes);
        using Image decoded = Image.NewFromBuffer(newBytes);
        switch (name)
        {
            case "Width":
                Assert.Equal(24, decoded.Width);
                break;
            case "Height":
                Assert.Equal(10, decoded.Height);
                break;
            case "Format":
                Assert.Equal("VipsForeignLoadHeifBuffer", Image.FindLoadBuffer(newBytes));

                // The webp of the old format is no longer produced by any item: it is deleted.
                Assert.False(File.Exists(ws.OutputFile(requests[0])));
                Assert.Contains(ws.OutputFile(requests[0]), result.DeletedOutputs);
                break;
        }
    }

    [Fact]
    public void DeletedOutput_NextRun_RestoredFromCacheWithoutConverting()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        string output = ws.OutputFile(requests[1]);
        byte[] original = File.ReadAllBytes(output);
        File.Delete(output);

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.UpToDate, ItemOutcome.FromCache, ItemOutcome.UpToDate);
        Assert.Equal(0, result.Converted);
        Assert.Equal(3, result.UpToDate); // FromCache counts as up to date in the summary
        Assert.Equal(original, File.ReadAllBytes(output));

        // And the restored file is trusted from then on.
        AssertOutcomes(ws.Run(requests), ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.UpToDate);
    }

    [Fact]
    public void TamperedOutput_SameLength_DifferentTime_IsRestoredFromCache()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        string output = ws.OutputFile(requests[0]);
        byte[] original = File.ReadAllBytes(output);
        File.WriteAllBytes(output, new byte[original.Length]); // same size, other bytes, newer time

        BatchResult result = ws.Run(requests);

        Assert.Equal(ItemOutcome.FromCache, result.Items[0].Outcome);
        Assert.Equal(original, File.ReadAllBytes(output));
    }

    [Fact]
    public void DeletedStateFile_NextRun_NothingConvertedAndNoOutputRewritten()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        Dictionary<string, DateTime> before = ws.OutputTimes();
        File.Delete(ws.StateFile);

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.FromCache, ItemOutcome.FromCache, ItemOutcome.FromCache);
        Assert.Equal(0, result.Converted);
        Assert.Equal(before, ws.OutputTimes());
        Assert.True(File.Exists(ws.StateFile));
        AssertOutcomes(ws.Run(requests), ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.UpToDate);
    }

    [Fact]
    public void CorruptStateFile_NextRun_TreatedAsMissing()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        File.WriteAllText(ws.StateFile, "{ this is not json");

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.FromCache, ItemOutcome.FromCache, ItemOutcome.FromCache);
        Assert.Equal(3, OutputState.Load(ws.StateFile).Outputs.Count);
    }

    [Fact]
    public void OutputRenamedOnlyInCase_NextRun_KeepsExactlyTheNewName()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/photo.jpg", PhotoJpg.Value);
        ImageRequest before = ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "32"), ("Link", "Img/Photo.webp"));
        ImageRequest after = ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "32"), ("Link", "img/photo.webp"));
        ws.Run(new[] { before });

        BatchResult result = ws.Run(new[] { after });

        Assert.True(result.Items.Single().Succeeded);
        string[] outputs = Directory.GetFiles(ws.Output, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(ws.Output, f).Replace('\\', '/')).ToArray();
        // On a case-sensitive file system the old spelling is gone; on a case-insensitive one the one file remains.
        Assert.Single(outputs);
        Assert.Equal("img/photo.webp", outputs[0], ignoreCase: true);
        Assert.True(File.Exists(ws.OutputFile(after)));
    }

    [Fact]
    public void RemovedRequest_NextRun_DeletesItsStaleOutput()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        string removedOutput = ws.OutputFile(requests[1]);
        Assert.True(File.Exists(removedOutput));

        BatchResult result = ws.Run(new[] { requests[0], requests[2] });

        AssertOutcomes(result, ItemOutcome.UpToDate, ItemOutcome.UpToDate);
        Assert.False(File.Exists(removedOutput));
        Assert.Equal(new[] { removedOutput }, result.DeletedOutputs);
        Assert.DoesNotContain(requests[1].OutputPath, OutputState.Load(ws.StateFile).Outputs.Keys);
        Assert.True(File.Exists(ws.OutputFile(requests[0])));
        Assert.True(File.Exists(ws.OutputFile(requests[2])));
    }

    [Fact]
    public void StateListingPathOutsideOutput_NextRun_NeverDeletesIt()
    {
        // The state file is only a record: a path in it that climbs out of the output folder is never deleted.
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        string victim = Path.Combine(ws.Root, "obj", "victim.txt");
        File.WriteAllText(victim, "keep me");
        OutputState state = OutputState.Load(ws.StateFile);
        state.Outputs["../../victim.txt"] = new OutputRecord { Key = "x", Length = 7, LastWriteUtcTicks = 1 };
        state.Save(ws.StateFile);

        BatchResult result = ws.Run(requests);

        Assert.True(File.Exists(victim));
        Assert.Empty(result.DeletedOutputs);
    }

    [Fact]
    public void TwoRequestsSameOutput_Run_SecondFailsWithDuplicateOutput()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/logo.png", GradientPng(1));
        ws.WriteSource("img/logo.jpg", PhotoJpg.Value);
        var requests = new[]
        {
            ws.Request("img/logo.png", ("Format", "webp"), ("Width", "32")),
            ws.Request("img/logo.jpg", ("Format", "webp"), ("Width", "32")),
        };
        Assert.Equal(requests[0].OutputPath, requests[1].OutputPath);

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.Converted, ItemOutcome.Failed);
        Diagnostic diagnostic = result.Items[1].Diagnostic!;
        Assert.Equal(DiagnosticCodes.DuplicateOutput, diagnostic.Code);
        Assert.Equal("KP1010", diagnostic.Code);
        Assert.Contains("'img/logo.jpg'", diagnostic.Message);
        Assert.Contains("'img/logo.png'", diagnostic.Message);
        Assert.Contains("img/logo.webp", diagnostic.Message);

        // The file is the first item's picture (the gradient), not the photo.
        using Image output = Image.NewFromBuffer(File.ReadAllBytes(ws.OutputFile(requests[0])));
        Assert.Equal((32, 21), (output.Width, output.Height));
    }

    [Fact]
    public void TwoRequestsSameOutputDifferentCase_Run_SecondFailsWithDuplicateOutput()
    {
        // Case-insensitive file systems (Windows, macOS) would make them the same file.
        using var ws = new BatchWorkspace();
        ws.WriteSource("a/Logo.png", GradientPng(1));
        ws.WriteSource("a/logo.png", GradientPng(2));
        var requests = new[] { ws.Request("a/Logo.png", ("Width", "16")), ws.Request("a/logo.png", ("Width", "16")) };

        BatchResult result = ws.Run(requests);

        Assert.Equal(DiagnosticCodes.DuplicateOutput, result.Items[1].Diagnostic!.Code);
    }

    [Fact]
    public void MissingSource_AmongGood_FailsWithSourceNotFoundOthersSucceed()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        requests.Insert(1, ws.Request("img/missing.png", ("Format", "webp")));

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.Converted, ItemOutcome.Failed, ItemOutcome.Converted, ItemOutcome.Converted);
        ItemResult missing = result.Items[1];
        Assert.Equal(DiagnosticCodes.SourceNotFound, missing.Diagnostic!.Code);
        Assert.Equal("KP2001", missing.Diagnostic.Code);
        Assert.Contains("img/missing.png", missing.Diagnostic.Message);
        Assert.Equal(ws.Source("img/missing.png"), missing.Diagnostic.File);
        Assert.False(File.Exists(ws.OutputFile(requests[1])));
        Assert.Equal(1, result.Failed);
    }

    [Fact]
    public void MissingSourceFolder_Run_FailsWithSourceNotFound()
    {
        using var ws = new BatchWorkspace();
        ImageRequest request = ws.Request("no/such/folder/x.png");

        BatchResult result = ws.Run(new[] { request });

        Assert.Equal(DiagnosticCodes.SourceNotFound, Assert.Single(result.Items).Diagnostic!.Code);
    }

    [Fact]
    public void BrokenImage_AmongGood_OnlyItFailsWithNoOutputAndNoCacheEntry()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        byte[] broken = FixtureBytes("truncated.jpg");
        ws.WriteSource("img/broken.jpg", broken);
        ImageRequest brokenRequest = ws.Request("img/broken.jpg", ("Format", "webp"), ("Width", "48"));
        requests.Add(brokenRequest);

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.Converted, ItemOutcome.Converted, ItemOutcome.Converted, ItemOutcome.Failed);
        ItemResult failed = result.Items[3];
        Assert.False(failed.Succeeded);
        Assert.Equal(DiagnosticCodes.CannotDecode, failed.Diagnostic!.Code);
        Assert.StartsWith("KoalaImage 'img/broken.jpg': '", failed.Diagnostic.Message);
        Assert.Contains("cannot be decoded", failed.Diagnostic.Message);
        Assert.Equal(brokenRequest.SourcePath, failed.Diagnostic.File);
        Assert.Equal(broken.Length, failed.SourceBytes);
        Assert.Equal(0, failed.OutputBytes);
        Assert.False(File.Exists(ws.OutputFile(brokenRequest)));
        Assert.Equal(3, ws.CacheFiles().Length);
        string brokenKey = ContentKey.Compute(broken, brokenRequest.Options, VipsRuntime.EngineVersion);
        Assert.DoesNotContain(ws.CacheFiles(), f => Path.GetFileName(f).StartsWith(brokenKey, StringComparison.Ordinal));
        Assert.DoesNotContain(brokenRequest.OutputPath, OutputState.Load(ws.StateFile).Outputs.Keys);

        // It fails again next time (failures are not cached as successes), the others stay up to date.
        AssertOutcomes(ws.Run(requests), ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.Failed);
    }

    [Fact]
    public void SourceTurnsCorrupt_AfterGoodBuild_OldOutputAndDeployedCopyDeleted()
    {
        using var deployed = new TempFolder();
        using var ws = new BatchWorkspace(deployedDirectory: deployed.Path);
        List<ImageRequest> requests = ThreeImages(ws);
        ws.Run(requests);
        string output = ws.OutputFile(requests[0]);
        string deployedCopy = Path.Combine(deployed.Path, requests[0].OutputPath);
        Directory.CreateDirectory(Path.GetDirectoryName(deployedCopy)!);
        File.Copy(output, deployedCopy);
        byte[] good = File.ReadAllBytes(requests[0].SourcePath);
        ws.WriteSource("img/photo.jpg", good.AsSpan(0, good.Length / 2).ToArray());

        BatchResult result = ws.Run(requests);

        AssertOutcomes(result, ItemOutcome.Failed, ItemOutcome.UpToDate, ItemOutcome.UpToDate);
        Assert.Equal(DiagnosticCodes.CannotDecode, result.Items[0].Diagnostic!.Code);
        Assert.False(File.Exists(output), "the stale output of the good version must not survive");
        Assert.False(File.Exists(deployedCopy), "nor its deployed copy");
        Assert.Contains(output, result.DeletedOutputs);
        Assert.Contains(deployedCopy, result.DeletedOutputs);
        Assert.DoesNotContain(requests[0].OutputPath, OutputState.Load(ws.StateFile).Outputs.Keys);

        // Fixing the source brings the output back, from the cache: it is the same bytes as before.
        ws.WriteSource("img/photo.jpg", good);
        Assert.Equal(ItemOutcome.FromCache, ws.Run(requests).Items[0].Outcome);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void SharedCache_SecondProjectSameImages_TakesAllFromCache()
    {
        using var cache = new TempFolder();
        using var first = new BatchWorkspace(cacheDirectory: cache.Path);
        using var second = new BatchWorkspace(cacheDirectory: cache.Path);
        AssertOutcomes(first.Run(ThreeImages(first)), ItemOutcome.Converted, ItemOutcome.Converted, ItemOutcome.Converted);

        BatchResult result = second.Run(ThreeImages(second));

        AssertOutcomes(result, ItemOutcome.FromCache, ItemOutcome.FromCache, ItemOutcome.FromCache);
    }

    [Fact]
    public void ManyImages_Parallel_ResultsInRequestOrder()
    {
        using var ws = new BatchWorkspace();
        var requests = new List<ImageRequest>();
        for (int i = 0; i < 8; i++)
        {
            ws.WriteSource($"g{i}.png", GradientPng(i));
            requests.Add(ws.Request($"g{i}.png", ("Format", "webp"), ("Width", (8 + i).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        BatchResult result = ws.Run(requests, parallelism: 4);

        Assert.Equal(requests, result.Items.Select(i => i.Request));
        for (int i = 0; i < 8; i++)
        {
            using Image output = Image.NewFromBuffer(File.ReadAllBytes(result.Items[i].OutputFile));
            Assert.Equal(8 + i, output.Width);
        }
    }

    [Fact]
    public void CancelledToken_Run_ThrowsOperationCanceled()
    {
        using var ws = new BatchWorkspace();
        List<ImageRequest> requests = ThreeImages(ws);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ws.Run(requests, cancellationToken: cts.Token));
        Assert.Empty(ws.TemporaryFiles());
    }

    [Fact]
    public void ContentKey_Compute_DependsOnBytesOptionsAndEngineOnly()
    {
        byte[] a = { 1, 2, 3 };
        var options = new ConversionOptions(ImageFormat.Webp, 80, 100, null);
        string key = ContentKey.Compute(a, options, "1.0+libvips-8.18.7");

        Assert.Matches("^[0-9a-f]{32}$", key);
        Assert.Equal(key, ContentKey.Compute(new byte[] { 1, 2, 3 }, options with { }, "1.0+libvips-8.18.7"));
        Assert.NotEqual(key, ContentKey.Compute(new byte[] { 1, 2, 4 }, options, "1.0+libvips-8.18.7"));
        Assert.NotEqual(key, ContentKey.Compute(a, options with { Quality = 81 }, "1.0+libvips-8.18.7"));
        Assert.NotEqual(key, ContentKey.Compute(a, options, "1.0+libvips-8.18.8"));
    }
}
