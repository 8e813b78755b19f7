using System.Collections.Concurrent;
using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The cache seam: the batch reads and writes outputs only through <see cref="IOutputCache"/>, verifies every entry, and treats a failing lookup as a miss.</summary>
public class OutputCacheTests
{
    [Fact]
    public void AnotherImplementation_IsUsedForLookupAndStore_AndItsEntriesServeAnotherProject()
    {
        var shared = new MemoryCache();
        using var first = new BatchWorkspace();
        first.WriteSource("img/a.png", ImageBatchTests.GradientPng(0));
        BatchResult made = new ImageBatch(first.Settings(), shared).Run(new[] { first.Request("img/a.png", ("Format", "webp")) });

        using var second = new BatchWorkspace();
        second.WriteSource("img/a.png", ImageBatchTests.GradientPng(0));
        BatchResult served = new ImageBatch(second.Settings(), shared).Run(new[] { second.Request("img/a.png", ("Format", "webp")) });

        Assert.Equal(ItemOutcome.Converted, Assert.Single(made.Items).Outcome);
        Assert.Equal(ItemOutcome.FromCache, Assert.Single(served.Items).Outcome);
        Assert.Single(shared.Entries);
        Assert.Equal(File.ReadAllBytes(made.Items[0].OutputFile), File.ReadAllBytes(served.Items[0].OutputFile));
        Assert.False(Directory.Exists(first.Cache) && Directory.EnumerateFiles(first.Cache, "*.webp", SearchOption.AllDirectories).Any(), "the folder cache was written beside the one given");
    }

    [Theory]
    [InlineData("io")]
    [InlineData("timeout")]
    [InlineData("cancelled-elsewhere")]
    [InlineData("bug")]
    public void FailingLookup_IsAMiss_AndTheImageIsConverted(string failure)
    {
        var cache = new MemoryCache { FindFailure = failure };
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/a.png", ImageBatchTests.GradientPng(0));

        ItemResult result = Assert.Single(new ImageBatch(ws.Settings(), cache).Run(new[] { ws.Request("img/a.png", ("Format", "webp")) }).Items);

        Assert.Equal(ItemOutcome.Converted, result.Outcome);
        Assert.Null(result.Diagnostic);
        Assert.True(result.OutputBytes > 0);
        Assert.Single(cache.Entries);
    }

    [Fact]
    public void TamperedEntry_FailsVerification_AndIsConvertedAgain()
    {
        var cache = new MemoryCache();
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/a.png", ImageBatchTests.GradientPng(0));
        ImageRequest request = ws.Request("img/a.png", ("Format", "webp"));
        byte[] good = File.ReadAllBytes(Assert.Single(new ImageBatch(ws.Settings(), cache).Run(new[] { request }).Items).OutputFile);
        foreach (string key in cache.Entries.Keys.ToList())
        {
            byte[] entry = cache.Entries[key];
            entry[10] ^= 0xff;
        }

        using var other = new BatchWorkspace();
        other.WriteSource("img/a.png", ImageBatchTests.GradientPng(0));
        ItemResult result = Assert.Single(new ImageBatch(other.Settings(), cache).Run(new[] { other.Request("img/a.png", ("Format", "webp")) }).Items);

        Assert.Equal(ItemOutcome.Converted, result.Outcome);
        Assert.Equal(good, File.ReadAllBytes(result.OutputFile));
    }

    [Fact]
    public void FailingStore_FailsTheItemWithKP2005_NamingTheEntry()
    {
        var cache = new MemoryCache { StoreFails = true };
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/a.png", ImageBatchTests.GradientPng(0));

        ItemResult result = Assert.Single(new ImageBatch(ws.Settings(), cache).Run(new[] { ws.Request("img/a.png", ("Format", "webp")) }).Items);

        Assert.Equal(ItemOutcome.Failed, result.Outcome);
        Assert.Equal(DiagnosticCodes.CannotWrite, result.Diagnostic!.Code);
        Assert.Contains("cannot write the memory entry ", result.Diagnostic.Message);
    }

    [Fact]
    public void FolderCache_ReadsWhatItStored_UnderThePathTheDocsGive()
    {
        using var folder = new TempFolder();
        var cache = new FolderOutputCache(folder.Path);
        const string Key = "3f9c0d5b2a7e41c88d0b6f1e2a4c91e1";
        byte[] image = { 1, 2, 3, 4, 5 };

        Assert.Null(cache.TryRead(Key, ImageFormat.Webp, out _));
        cache.Write(Key, ImageFormat.Webp, image, new OutputFacts(2, 3, 70));

        Assert.True(File.Exists(Path.Combine(folder.Path, "3f", Key + ".webp")));
        Assert.Equal(image, cache.TryRead(Key, ImageFormat.Webp, out OutputFacts facts));
        Assert.Equal(new OutputFacts(2, 3, 70), facts);
        Assert.Null(cache.TryRead(Key, ImageFormat.Avif, out _));
        Assert.Equal("the cache entry '" + Path.Combine(folder.Path, "3f", Key + ".webp") + "' (KoalaPicCacheDir)", cache.Describe(Key, ImageFormat.Webp));
    }

    /// <summary>An in-memory cache standing in for a shared one, which can fail the ways a remote cache does.</summary>
    private sealed class MemoryCache : IOutputCache
    {
        public ConcurrentDictionary<string, byte[]> Entries { get; } = new();

        public string? FindFailure { get; init; }

        public bool StoreFails { get; init; }

        public CacheHit? Find(string key, ImageFormat format, CancellationToken cancellationToken) => FindFailure switch
        {
            "io" => throw new IOException("connection reset"),
            "timeout" => throw new TimeoutException("the cache did not answer in 2 s"),
            "cancelled-elsewhere" => throw new TaskCanceledException("HttpClient.Timeout"),
            "bug" => throw new NullReferenceException(),
            _ => Entries.TryGetValue(Name(key, format), out byte[]? entry) ? new CacheHit((byte[])entry.Clone()) : null,
        };

        public void Store(string key, ImageFormat format, byte[] entry)
        {
            if (StoreFails)
            {
                throw new IOException("read-only");
            }

            Entries[Name(key, format)] = entry;
        }

        public string Describe(string key, ImageFormat format) => "the memory entry " + Name(key, format);

        private static string Name(string key, ImageFormat format) => key + ImageFormats.Extension(format);
    }
}
