using System.Diagnostics;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Never half-written, never trusted unverified: damaged cache entries and outputs are detected and made again, write
/// failures and sources that change mid-build are KP errors naming the path, two batches of one project never
/// interleave, and a batch killed with SIGKILL leaves only whole files that the next batch completes.
/// </summary>
public sealed class BatchDurabilityTests : IDisposable
{
    private readonly BatchWorkspace ws = new();

    public void Dispose() => ws.Dispose();

    private static byte[] Gradient(int seed)
    {
        using Image xy = Image.Xyz(96, 64);
        using Image image = (xy[0] * 2 + seed).Bandjoin(xy[1] * 3, xy[0] + xy[1] + seed * 7).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        return image.PngsaveBuffer();
    }

    private List<ImageRequest> TwoImages()
    {
        ws.WriteSource("img/a.png", Gradient(1));
        ws.WriteSource("img/b.png", Gradient(2));
        return new List<ImageRequest>
        {
            ws.Request("img/a.png", ("Format", "webp"), ("Width", "48")),
            ws.Request("img/b.png", ("Format", "png"), ("Width", "40")),
        };
    }

    private static string CacheKeyOf(string cacheFile) => Path.GetFileNameWithoutExtension(cacheFile);

    /// <summary>The file decodes completely, with every error fatal.</summary>
    private static void AssertWholeImage(byte[] bytes, string what)
    {
        try
        {
            using Image image = Image.NewFromBuffer(bytes, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            Assert.True(image.Avg() >= 0, what);
        }
        catch (VipsException ex)
        {
            Assert.Fail($"{what} is not a whole image: {ex.Message}");
        }
    }

    private void AssertEveryFileWhole()
    {
        // Every file in the output folder, temporary names included: those are written beside it, never in it.
        foreach (string file in Directory.GetFiles(ws.Output, "*", SearchOption.AllDirectories))
        {
            AssertWholeImage(File.ReadAllBytes(file), file);
        }

        foreach (string file in ws.CacheFiles().Where(f => !AtomicFile.IsTemporaryName(Path.GetFileName(f))))
        {
            byte[]? image = CacheEntry.TryRead(file, CacheKeyOf(file));
            Assert.True(image != null, $"cache entry {file} does not verify");
            AssertWholeImage(image!, file);
        }
    }

    // ---- cache entries: verified before use ----

    [Fact]
    public void CacheEntry_WriteThenRead_RoundTripsAndRejectsEveryDamage()
    {
        string path = Path.Combine(ws.Root, "ab", "abcdef.webp");
        byte[] image = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();

        CacheEntry.Write(path, "abcdef", image);

        Assert.Equal(image, CacheEntry.TryRead(path, "abcdef"));
        byte[] entry = File.ReadAllBytes(path);
        Assert.Equal(image.Length + CacheEntry.TrailerLength, entry.Length);
        Assert.Null(CacheEntry.TryRead(path, "abcdee")); // filed under another key
        Assert.Null(CacheEntry.TryRead(Path.Combine(ws.Root, "missing.webp"), "abcdef"));

        var damaged = new Dictionary<string, byte[]>
        {
            ["truncated in the image"] = entry.AsSpan(0, entry.Length / 2).ToArray(),
            ["truncated in the trailer"] = entry.AsSpan(0, entry.Length - 3).ToArray(),
            ["one byte flipped"] = entry.Select((b, i) => i == 100 ? (byte)(b ^ 0x40) : b).ToArray(),
            ["the image alone (no trailer: an older KoalaPic)"] = image,
            ["empty"] = Array.Empty<byte>(),
            ["zeros of the same length"] = new byte[entry.Length],
        };
        foreach (var (what, bytes) in damaged)
        {
            File.WriteAllBytes(path, bytes);
            Assert.True(CacheEntry.TryRead(path, "abcdef") == null, $"{what}: accepted");
        }
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("flipped")]
    [InlineData("no trailer")]
    public void DamagedCacheEntry_OutputGone_IsConvertedAgainAndTheEntryReplaced(string damage)
    {
        List<ImageRequest> requests = TwoImages();
        ws.Run(requests);
        string output = ws.OutputFile(requests[0]);
        byte[] good = File.ReadAllBytes(output);
        string cacheFile = Assert.Single(ws.CacheFiles(), f => f.EndsWith(".webp", StringComparison.Ordinal));
        byte[] entry = File.ReadAllBytes(cacheFile);
        File.Delete(output);

        // Damaged in place, as a crash without atomic rename, a full disk or a bad CI cache restore leaves it.
        File.WriteAllBytes(cacheFile, damage switch
        {
            "truncated" => entry.AsSpan(0, entry.Length / 2).ToArray(),
            "flipped" => entry.Select((b, i) => i == entry.Length / 2 ? (byte)~b : b).ToArray(),
            _ => good,
        });

        BatchResult result = ws.Run(requests);

        Assert.Equal(new[] { ItemOutcome.Converted, ItemOutcome.UpToDate }, result.Items.Select(i => i.Outcome));
        Assert.Equal(good, File.ReadAllBytes(output));
        Assert.Equal(good, CacheEntry.TryRead(cacheFile, CacheKeyOf(cacheFile)));
        AssertEveryFileWhole();
    }

    [Fact]
    public void OutputTruncatedInPlace_StateAndCacheIntact_IsRestoredFromTheCache()
    {
        List<ImageRequest> requests = TwoImages();
        ws.Run(requests);
        string output = ws.OutputFile(requests[1]);
        byte[] good = File.ReadAllBytes(output);

        // What kill -9 of a writer that wrote in place would leave: the first part of the file, newer.
        File.WriteAllBytes(output, good.AsSpan(0, good.Length / 3).ToArray());

        BatchResult result = ws.Run(requests);

        Assert.Equal(new[] { ItemOutcome.UpToDate, ItemOutcome.FromCache }, result.Items.Select(i => i.Outcome));
        Assert.Equal(good, File.ReadAllBytes(output));
        AssertEveryFileWhole();
    }

    [Fact]
    public void OutputAndCacheEntryBothTruncated_StateDeleted_IsConvertedAgain()
    {
        List<ImageRequest> requests = TwoImages();
        ws.Run(requests);
        string output = ws.OutputFile(requests[0]);
        byte[] good = File.ReadAllBytes(output);
        File.WriteAllBytes(output, good.AsSpan(0, 20).ToArray());
        foreach (string entry in ws.CacheFiles())
        {
            File.WriteAllBytes(entry, File.ReadAllBytes(entry).AsSpan(0, 20).ToArray());
        }

        File.Delete(ws.StateFile);

        BatchResult result = ws.Run(requests);

        Assert.Equal(new[] { ItemOutcome.Converted, ItemOutcome.Converted }, result.Items.Select(i => i.Outcome));
        Assert.Equal(good, File.ReadAllBytes(output));
        AssertEveryFileWhole();
    }

    [Fact]
    public void LeftoverTemporaryFiles_InTheOutputFolder_AreDeletedByTheNextRun_OtherFilesAreNot()
    {
        List<ImageRequest> requests = TwoImages();
        ws.Run(requests);
        string leftover = Path.Combine(ws.Output, "img", ".a.webp.0123abcd.tmp");
        string notOurs = Path.Combine(ws.Output, "img", "notes.tmp");
        File.WriteAllBytes(leftover, new byte[] { 1, 2, 3 });
        File.WriteAllBytes(notOurs, new byte[] { 1 });

        ws.Run(requests);

        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(notOurs));
    }

    [Theory]
    [InlineData(".a.webp.0123abcd.tmp", true)]
    [InlineData(".state.json.ffffffff.tmp", true)]
    [InlineData("a.webp.0123abcd.tmp", false)]
    [InlineData(".a.webp.0123ABCD.tmp", false)]
    [InlineData(".a.webp.0123abc.tmp", false)]
    [InlineData("..0123abcd.tmp", false)]
    [InlineData(".tmp", false)]
    public void IsTemporaryName_MatchesOnlyAtomicFileNames(string name, bool expected) =>
        Assert.Equal(expected, AtomicFile.IsTemporaryName(name));

    // ---- write failures and missing folders: a KP error naming the path ----
    // Tests run as root here, where chmod does not stop writes: a regular file where a folder must be created makes
    // the failure real on every OS and for every user.

    [Fact]
    public void OutputFolderBlockedByAFile_CannotWriteNamingTheOutput_OtherImagesConvert()
    {
        List<ImageRequest> requests = TwoImages();
        requests.Add(ws.Request("img/b.png", ("Format", "jpg"), ("Link", "blocked/b.jpg")));
        Directory.CreateDirectory(ws.Output);
        File.WriteAllText(Path.Combine(ws.Output, "blocked"), "a file where the folder 'blocked' must go");

        BatchResult result = ws.Run(requests);

        Assert.Equal(new[] { true, true, false }, result.Items.Select(i => i.Succeeded));
        Diagnostic diagnostic = result.Items[2].Diagnostic!;
        Assert.Equal(DiagnosticCodes.CannotWrite, diagnostic.Code);
        Assert.Contains($"cannot write the output '{Path.Combine(ws.Output, "blocked/b.jpg")}' for '{requests[2].SourcePath}'", diagnostic.Message);
        Assert.StartsWith("KoalaImage 'img/b.png': ", diagnostic.Message);
        AssertWholeImage(File.ReadAllBytes(result.Items[0].OutputFile), "a's output");
        AssertWholeImage(File.ReadAllBytes(result.Items[1].OutputFile), "b's output");
    }

    [Fact]
    public void CacheFolderBlockedByAFile_CannotWriteNamingTheCacheEntry_AndNoOutput()
    {
        using var blocked = new TempFolder();
        string cacheFile = Path.Combine(blocked.Path, "cache");
        File.WriteAllText(cacheFile, "a file where the cache folder must go");
        using var project = new BatchWorkspace(cacheDirectory: cacheFile);
        project.WriteSource("a.png", Gradient(3));
        ImageRequest request = project.Request("a.png", ("Format", "webp"));

        BatchResult result = project.Run(new[] { request });

        Diagnostic diagnostic = Assert.Single(result.Items).Diagnostic!;
        Assert.Equal(DiagnosticCodes.CannotWrite, diagnostic.Code);
        Assert.Contains($"cannot write the cache entry '{cacheFile}{Path.DirectorySeparatorChar}", diagnostic.Message);
        Assert.Contains("(KoalaPicCacheDir)", diagnostic.Message);
        Assert.False(File.Exists(project.OutputFile(request)));
    }

    [Fact]
    public void OutputFolderDeletedBetweenRuns_IsCreatedAgainFromTheCache()
    {
        List<ImageRequest> requests = TwoImages();
        ws.Run(requests);
        Directory.Delete(ws.Output, recursive: true);

        BatchResult result = ws.Run(requests);

        Assert.Equal(new[] { ItemOutcome.FromCache, ItemOutcome.FromCache }, result.Items.Select(i => i.Outcome));
        AssertEveryFileWhole();
    }

    [Fact]
    public void StateFolderBlockedByAFile_RunThrowsIOExceptionNamingIt()
    {
        List<ImageRequest> requests = TwoImages();
        string koalapicFolder = Path.GetDirectoryName(ws.StateFile)!;
        Directory.CreateDirectory(Path.GetDirectoryName(koalapicFolder)!);
        File.WriteAllText(koalapicFolder, "a file where obj/…/koalapic/ must go");

        var ex = Assert.ThrowsAny<IOException>(() => ws.Run(requests));

        Assert.Contains(koalapicFolder, ex.Message);
    }

    // ---- the source changes while it converts ----

    private BatchResult RunChangingSource(List<ImageRequest> requests, Action<string> change)
    {
        var batch = new ImageBatch(ws.Settings());
        batch.AfterSourceRead = request =>
        {
            if (request.ItemSpec == "img/a.png")
            {
                change(request.SourcePath);
            }
        };
        return batch.Run(requests);
    }

    [Fact]
    public void SourceRewrittenDuringItsConversion_FailsWithSourceChanged_NothingWritten_NextRunConvertsTheNewOne()
    {
        List<ImageRequest> requests = TwoImages();

        BatchResult result = RunChangingSource(requests, path => File.WriteAllBytes(path, Gradient(9)));

        ItemResult changed = result.Items[0];
        Assert.Equal(DiagnosticCodes.SourceChanged, changed.Diagnostic!.Code);
        Assert.Equal("KP2009", changed.Diagnostic.Code);
        Assert.Equal($"KoalaImage 'img/a.png': '{requests[0].SourcePath}' changed while KoalaPic was converting it, so nothing was written for it. Build again once the file is complete.", changed.Diagnostic.Message);
        Assert.False(File.Exists(ws.OutputFile(requests[0])));
        Assert.Single(ws.CacheFiles()); // b's only
        Assert.True(result.Items[1].Succeeded);

        BatchResult next = ws.Run(requests);

        Assert.Equal(ItemOutcome.Converted, next.Items[0].Outcome);
        using Image output = Image.NewFromFile(ws.OutputFile(requests[0]));
        using Image expected = Image.NewFromBuffer(Convert(Gradient(9), ImageFormat.Webp, width: 48).Bytes);
        Assert.True(MeanAbsDiff(output, expected) < 1);
    }

    [Fact]
    public void SourceDeletedDuringItsConversion_FailsWithSourceChangedSayingDeleted()
    {
        List<ImageRequest> requests = TwoImages();

        BatchResult result = RunChangingSource(requests, File.Delete);

        Assert.Equal(DiagnosticCodes.SourceChanged, result.Items[0].Diagnostic!.Code);
        Assert.Contains($"'{requests[0].SourcePath}' was deleted while KoalaPic was converting it", result.Items[0].Diagnostic!.Message);
        Assert.False(File.Exists(ws.OutputFile(requests[0])));
    }

    [Fact]
    public void SourceTouchedDuringItsConversion_SameBytes_Converts()
    {
        List<ImageRequest> requests = TwoImages();

        BatchResult result = RunChangingSource(requests, path => File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(5)));

        Assert.All(result.Items, i => Assert.True(i.Succeeded, i.Diagnostic?.Message));
    }

    // ---- two batches of one project ----

    [Fact]
    public void LockHeldByAnotherBuild_PastTheTimeout_ThrowsConcurrentBuildNamingTheLockAndTheWait()
    {
        List<ImageRequest> requests = TwoImages();
        string lockFile = BuildLock.PathFor(ws.StateFile);
        using BuildLock other = BuildLock.Acquire(lockFile, TimeSpan.Zero, CancellationToken.None);

        var ex = Assert.Throws<ConcurrentBuildException>(() =>
            new ImageBatch(ws.Settings() with { LockTimeoutSeconds = 1 }).Run(requests));

        Assert.Equal($"KoalaPic: another build of this project is converting images (it holds '{lockFile}'); waited 1 s. Let it finish, then build again.", ex.Message);
        Assert.False(Directory.Exists(ws.Output));
        Assert.False(File.Exists(ws.StateFile));
    }

    [Fact]
    public async Task LockReleasedWhileWaiting_TheBatchThenRuns()
    {
        List<ImageRequest> requests = TwoImages();
        BuildLock other = BuildLock.Acquire(BuildLock.PathFor(ws.StateFile), TimeSpan.Zero, CancellationToken.None);
        Task<BatchResult> waiting = Task.Run(() => ws.Run(requests));
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted, "the batch ran while another held the lock");

        other.Dispose();

        Assert.All((await waiting).Items, i => Assert.Equal(ItemOutcome.Converted, i.Outcome));
    }

    [Fact]
    public void LockHeld_CancelledWhileWaiting_ThrowsOperationCanceled()
    {
        List<ImageRequest> requests = TwoImages();
        using BuildLock other = BuildLock.Acquire(BuildLock.PathFor(ws.StateFile), TimeSpan.Zero, CancellationToken.None);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        Assert.ThrowsAny<OperationCanceledException>(() => ws.Run(requests, cancellationToken: cancellation.Token));
    }

    /// <summary>An IDE build and a terminal build of one project, as two koalapic processes started together.</summary>
    [Fact]
    public async Task TwoKoalapicProcesses_SameProjectAtOnce_BothSucceed_OutputsStateAndCacheValid()
    {
        List<JobItem> items = ManyItems(6);
        string first = Koalapic.WriteJob(ws, "first.json", 1, items);
        string second = Koalapic.WriteJob(ws, "second.json", 1, items);

        KoalapicRun[] runs = await Task.WhenAll(Task.Run(() => Koalapic.Run(first)), Task.Run(() => Koalapic.Run(second)));

        foreach (KoalapicRun run in runs)
        {
            Assert.Equal(0, run.ExitCode);
            Assert.True(run.Result.Succeeded, string.Join("\n", run.Result.Diagnostics));
            Assert.Equal(6, run.Result.Outputs.Count);
        }

        // The lock serialises them: one converts everything, the other finds everything done.
        Assert.Equal(
            new[] { "KoalaPic: 6 images, 0 converted, 6 up to date", "KoalaPic: 6 images, 6 converted, 0 up to date" },
            runs.Select(r => r.Summary.Substring(0, r.Summary.IndexOf(" up to date", StringComparison.Ordinal) + " up to date".Length)).OrderBy(s => s, StringComparer.Ordinal));
        Assert.Equal(6, OutputState.Load(ws.StateFile).Outputs.Count);
        Assert.Equal(6, ws.CacheFiles().Length);
        AssertEveryFileWhole();
        Assert.Empty(ws.TemporaryFiles());
    }

    [Fact]
    public async Task TwoProjectsSharingACache_ConvertAtOnce_EveryCacheEntryVerifies()
    {
        using var cache = new TempFolder();
        using var other = new BatchWorkspace(cacheDirectory: cache.Path);
        using var mine = new BatchWorkspace(cacheDirectory: cache.Path);
        string[] jobFiles = new[] { mine, other }.Select((project, n) =>
        {
            var items = new List<JobItem>();
            for (int i = 0; i < 6; i++)
            {
                project.WriteSource($"g{i}.png", Gradient(i));
                items.Add(BatchWorkspace.Item($"g{i}.png", ("Format", "webp"), ("Width", "64")));
            }

            return Koalapic.WriteJob(project, "job.json", 2, items);
        }).ToArray();

        KoalapicRun[] runs = await Task.WhenAll(jobFiles.Select(f => Task.Run(() => Koalapic.Run(f))));

        Assert.All(runs, run => Assert.True(run.Result.Succeeded && run.Result.Outputs.Count == 6, string.Join("\n", run.Result.Diagnostics)));
        string[] entries = Directory.GetFiles(cache.Path, "*", SearchOption.AllDirectories);
        Assert.Equal(6, entries.Length);
        Assert.All(entries, e => AssertWholeImage(CacheEntry.TryRead(e, CacheKeyOf(e)) ?? throw new Xunit.Sdk.XunitException(e + " does not verify"), e));
    }

    // ---- kill -9 ----

    private List<JobItem> ManyItems(int count)
    {
        ws.WriteSource("img/photo.jpg", FixtureBytes("2569067123_aca715a2ee_o.jpg"));
        return Enumerable.Range(0, count)
            .Select(i => BatchWorkspace.Item("img/photo.jpg", ("Format", "png"), ("Quality", "100"), ("Width", (1200 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)), ("Link", $"out/photo-{i}.png")))
            .ToList();
    }

    [Fact]
    public void KoalapicKilledHard_MidBatch_LeavesOnlyWholeFiles_AndTheNextRunFinishesTheRest()
    {
        List<JobItem> items = ManyItems(24);
        List<ImageRequest> requests = items.Select(ws.Request).ToList();
        string jobFile = Koalapic.WriteJob(ws, "job.json", 2, items);
        int progressLines = 0;
        using (Process koalapic = Koalapic.Start(jobFile))
        {
            while (koalapic.StandardOutput.ReadLine() is string line)
            {
                if (JobProtocol.Deserialize<JobMessage>(line) is { } message && Koalapic.IsProgress(message) && ++progressLines == 3)
                {
                    koalapic.Kill(); // SIGKILL: no handler, no finally, no flush
                    break;
                }
            }

            koalapic.WaitForExit();
            Assert.Equal(3, progressLines);
            Assert.NotEqual(0, koalapic.ExitCode);
        }

        string[] finished = Directory.GetFiles(ws.Output, "*.png", SearchOption.AllDirectories);
        Assert.InRange(finished.Length, 3, 23);
        AssertEveryFileWhole();

        BatchResult next = ws.Run(requests);

        Assert.All(next.Items, i => Assert.True(i.Succeeded, i.Diagnostic?.Message));
        Assert.Equal(24 - next.Converted, next.Items.Count(i => i.Outcome == ItemOutcome.FromCache));
        Assert.True(next.Converted <= 24 - finished.Length, $"{next.Converted} converted again though {finished.Length} were done");
        Assert.Equal(24, Directory.GetFiles(ws.Output, "*.png", SearchOption.AllDirectories).Length);
        AssertEveryFileWhole();
        Assert.Empty(Directory.GetFiles(ws.Output, "*.tmp", SearchOption.AllDirectories));
        for (int i = 0; i < 24; i++)
        {
            using Image output = Image.NewFromFile(next.Items[i].OutputFile);
            Assert.Equal(1200 + i, output.Width);
        }
    }
}
