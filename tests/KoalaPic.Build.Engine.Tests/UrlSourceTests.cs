using System.Security.Cryptography;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// URL sources against a real HTTP server on loopback: downloads verified against Sha256, a content-addressed cache
/// that keeps pinned builds off the network, and a KP code for every way a download goes wrong.
/// </summary>
public sealed class UrlSourceTests : IDisposable
{
    private readonly LoopbackHttpServer server = new();
    private readonly BatchWorkspace ws = new();
    private readonly byte[] photo = FixtureBytes("concert.jpg");

    public void Dispose()
    {
        server.Dispose();
        ws.Dispose();
    }

    private static string Sha256Of(byte[] bytes) => System.Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private UrlDownloader Downloader(DownloadSettings? settings = null) => new(ws.Cache, settings ?? new DownloadSettings(), CancellationToken.None);

    private static UrlDownloader.Fetched Fetch(UrlDownloader downloader, string url, string? sha256 = null) =>
        downloader.Start(new UrlSource(url, sha256, "/p/p.csproj")).GetAwaiter().GetResult();

    private string[] DownloadCacheFiles() =>
        Directory.Exists(Path.Combine(ws.Cache, "downloads"))
            ? Directory.GetFiles(Path.Combine(ws.Cache, "downloads"), "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(Path.GetDirectoryName(f)) != "urls").ToArray()
            : Array.Empty<string>();

    // ---- the downloader ----

    [Fact]
    public void PinnedUrl_IsDownloadedOnceVerifiedAndCached_ThenNeverTouchesTheNetwork()
    {
        server.Serve("/concert.jpg", photo);
        string sha = Sha256Of(photo);

        using (UrlDownloader first = Downloader())
        {
            UrlDownloader.Fetched fetched = Fetch(first, server.Url("/concert.jpg"), sha);
            Assert.True(fetched.Succeeded, fetched.Reason);
            Assert.Equal(photo, File.ReadAllBytes(fetched.File!));
            Assert.Equal(new DownloadInfo(server.Url("/concert.jpg"), sha, photo.Length, Downloaded: true), fetched.Info);
            Assert.EndsWith(sha, fetched.File!, StringComparison.Ordinal);
        }

        Assert.Equal(1, server.Hits("/concert.jpg"));
        using UrlDownloader second = Downloader();
        UrlDownloader.Fetched again = Fetch(second, server.Url("/concert.jpg"), sha);
        Assert.True(again.Succeeded, again.Reason);
        Assert.False(again.Info!.Downloaded);
        Assert.Equal(0, second.RequestsSent);
        Assert.Equal(1, server.TotalHits);
    }

    [Fact]
    public void DamagedCacheFile_IsNotTrusted_AndIsDownloadedAgain()
    {
        server.Serve("/concert.jpg", photo);
        string sha = Sha256Of(photo);
        using (UrlDownloader first = Downloader())
        {
            Assert.True(Fetch(first, server.Url("/concert.jpg"), sha).Succeeded);
        }

        string cached = Assert.Single(DownloadCacheFiles());
        File.WriteAllBytes(cached, photo.AsSpan(0, photo.Length / 2).ToArray());

        using UrlDownloader second = Downloader();
        UrlDownloader.Fetched fetched = Fetch(second, server.Url("/concert.jpg"), sha);
        Assert.True(fetched.Succeeded, fetched.Reason);
        Assert.True(fetched.Info!.Downloaded);
        Assert.Equal(photo, File.ReadAllBytes(cached));
    }

    [Fact]
    public void NotFound_IsKP4006_NamingTheUrlAndTheStatus()
    {
        using UrlDownloader downloader = Downloader();
        UrlDownloader.Fetched fetched = Fetch(downloader, server.Url("/missing.png"));

        Assert.False(fetched.Succeeded);
        Assert.Equal(DiagnosticCodes.DownloadFailed, fetched.Code);
        Assert.Contains(server.Url("/missing.png"), fetched.Reason);
        Assert.Contains("HTTP 404 (Not Found)", fetched.Reason);
        Assert.Empty(DownloadCacheFiles());
    }

    [Fact]
    public void ServerError_And_ConnectionRefused_AreKP4006()
    {
        server.Status("/boom.png", 500);
        using UrlDownloader downloader = Downloader();
        UrlDownloader.Fetched boom = Fetch(downloader, server.Url("/boom.png"));
        Assert.Equal(DiagnosticCodes.DownloadFailed, boom.Code);
        Assert.Contains("HTTP 500", boom.Reason);

        // A port nothing listens on: taken from a listener that is then closed.
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        UrlDownloader.Fetched refused = Fetch(downloader, $"http://127.0.0.1:{port}/a.png");
        Assert.Equal(DiagnosticCodes.DownloadFailed, refused.Code);
        Assert.StartsWith($"downloading Url 'http://127.0.0.1:{port}/a.png' failed: ", refused.Reason);
        Assert.Contains("refused", refused.Reason);
    }

    [Fact]
    public void StalledServer_IsKP4007_AfterTheTimeout()
    {
        server.Stall("/slow.png");
        using UrlDownloader downloader = Downloader(new DownloadSettings { TimeoutSeconds = 1 });
        UrlDownloader.Fetched fetched = Fetch(downloader, server.Url("/slow.png"));

        Assert.Equal(DiagnosticCodes.DownloadTimeout, fetched.Code);
        Assert.Contains("KoalaPicDownloadTimeout (1 s)", fetched.Reason);
        Assert.Empty(DownloadCacheFiles());
    }

    [Fact]
    public void TooLarge_IsKP4008_WhetherDeclaredOrNot()
    {
        server.Serve("/declared.jpg", photo);
        server.ServeUndeclared("/undeclared.jpg", photo);
        using UrlDownloader downloader = Downloader(new DownloadSettings { MaxBytes = photo.Length - 1 });

        UrlDownloader.Fetched declared = Fetch(downloader, server.Url("/declared.jpg"));
        UrlDownloader.Fetched undeclared = Fetch(downloader, server.Url("/undeclared.jpg"));

        Assert.Equal(DiagnosticCodes.DownloadTooLarge, declared.Code);
        Assert.Contains($"the server says {photo.Length} bytes", declared.Reason);
        Assert.Equal(DiagnosticCodes.DownloadTooLarge, undeclared.Code);
        Assert.Contains("the server sent more", undeclared.Reason);
        Assert.Empty(DownloadCacheFiles());

        // At the limit exactly, both are accepted.
        using UrlDownloader exact = Downloader(new DownloadSettings { MaxBytes = photo.Length });
        Assert.True(Fetch(exact, server.Url("/undeclared.jpg")).Succeeded);
    }

    [Fact]
    public void HashMismatch_IsKP4005_ShowingBothHashes_AndCachesNothing()
    {
        byte[] other = FixtureBytes("flowers.jpeg");
        server.Serve("/swapped.jpg", other);
        string expected = Sha256Of(photo);
        using UrlDownloader downloader = Downloader();

        UrlDownloader.Fetched fetched = Fetch(downloader, server.Url("/swapped.jpg"), expected);

        Assert.Equal(DiagnosticCodes.HashMismatch, fetched.Code);
        Assert.Contains("expected " + expected, fetched.Reason);
        Assert.Contains("actual " + Sha256Of(other), fetched.Reason);
        Assert.Empty(DownloadCacheFiles());
    }

    [Fact]
    public void Redirects_AreFollowedUpToTheLimit_AndOnlyToHttp()
    {
        server.Serve("/final.jpg", photo);
        server.Redirect("/moved.jpg", "/final.jpg", 301);
        server.Redirect("/loop-a", server.Url("/loop-b"));
        server.Redirect("/loop-b", "/loop-a");
        server.Redirect("/to-file", "file:///etc/passwd");
        using UrlDownloader downloader = Downloader(new DownloadSettings { MaxRedirects = 3 });

        UrlDownloader.Fetched moved = Fetch(downloader, server.Url("/moved.jpg"), Sha256Of(photo));
        Assert.True(moved.Succeeded, moved.Reason);
        Assert.Equal(photo, File.ReadAllBytes(moved.File!));

        UrlDownloader.Fetched loop = Fetch(downloader, server.Url("/loop-a"));
        Assert.Equal(DiagnosticCodes.RedirectRefused, loop.Code);
        Assert.Contains("more than 3 times", loop.Reason);
        Assert.Equal(4, server.Hits("/loop-a") + server.Hits("/loop-b"));

        UrlDownloader.Fetched toFile = Fetch(downloader, server.Url("/to-file"));
        Assert.Equal(DiagnosticCodes.RedirectRefused, toFile.Code);
        Assert.Contains("file:///etc/passwd", toFile.Reason);
    }

    [Fact]
    public void Offline_UsesTheCache_AndNamesWhatIsMissing()
    {
        server.Serve("/concert.jpg", photo);
        server.Serve("/unpinned.jpg", photo);
        string sha = Sha256Of(photo);
        using (UrlDownloader online = Downloader())
        {
            Assert.True(Fetch(online, server.Url("/concert.jpg"), sha).Succeeded);
            Assert.True(Fetch(online, server.Url("/unpinned.jpg")).Succeeded);
        }

        int hits = server.TotalHits;
        using UrlDownloader offline = Downloader(new DownloadSettings { Offline = true });
        UrlDownloader.Fetched pinned = Fetch(offline, server.Url("/concert.jpg"), sha);
        UrlDownloader.Fetched unpinned = Fetch(offline, server.Url("/unpinned.jpg"));
        UrlDownloader.Fetched missing = Fetch(offline, server.Url("/never.jpg"), Sha256Of(FixtureBytes("flowers.jpeg")));

        Assert.True(pinned.Succeeded, pinned.Reason);
        Assert.True(unpinned.Succeeded, unpinned.Reason);
        Assert.Equal(sha, unpinned.Info!.Sha256);
        Assert.Equal(DiagnosticCodes.NotCachedOffline, missing.Code);
        Assert.Contains(server.Url("/never.jpg"), missing.Reason);
        Assert.Contains("KoalaPicOffline", missing.Reason);
        Assert.Equal(hits, server.TotalHits);
        Assert.Equal(0, offline.RequestsSent);
    }

    [Fact]
    public void Offline_WithAnEmptyCache_FailsWithoutTouchingTheNetwork()
    {
        server.Serve("/concert.jpg", photo);
        using UrlDownloader offline = Downloader(new DownloadSettings { Offline = true });

        UrlDownloader.Fetched fetched = Fetch(offline, server.Url("/concert.jpg"), Sha256Of(photo));

        Assert.Equal(DiagnosticCodes.NotCachedOffline, fetched.Code);
        Assert.Equal(0, server.TotalHits);
    }

    // ---- metadata ----

    private static (UrlSource? Source, List<Diagnostic> Diagnostics) Parse(string itemSpec, string url, string sha256 = "")
    {
        var diagnostics = new List<Diagnostic>();
        UrlSource? source = UrlSource.Parse(itemSpec, name => name switch { "Url" => url, "Sha256" => sha256, _ => "" }, "/p/p.csproj", diagnostics);
        return (source, diagnostics);
    }

    [Theory]
    [InlineData("file:///etc/passwd", "file:// is refused")]
    [InlineData("ftp://example.com/a.png", "ftp:// is refused")]
    [InlineData("img/a.png", "")]
    [InlineData("https://", "")]
    public void Url_ThatIsNotHttpOrHttps_IsKP4002(string url, string detail)
    {
        var (source, diagnostics) = Parse("img/a.png", url);

        Assert.Null(source);
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.InvalidUrl, d.Code);
        Assert.Contains($"Url=\"{url}\"", d.Message);
        Assert.Contains(detail, d.Message);
        Assert.Contains("http:// or https://", d.Message);
    }

    [Theory]
    [InlineData("https://cdn.example.com/hero.png")]
    [InlineData("HTTP://cdn.example.com/hero.png")]
    [InlineData("file:///etc/passwd")]
    [InlineData("https:\\\\cdn.example.com\\hero.png")] // as a Windows tool might rewrite its slashes
    public void UrlAsInclude_IsKP4001_ShowingTheItemToWrite(string include)
    {
        var (source, diagnostics) = Parse(include, "");

        Assert.Null(source);
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.UrlAsInclude, d.Code);
        Assert.Contains($"Url=\"{include}\"", d.Message);
    }

    [Theory]
    [InlineData("img/hero.png")]
    [InlineData("C:\\site\\img\\hero.png")]
    [InlineData("/home/me/img/hero.png")]
    [InlineData("img/https.png")]
    public void PathsAreNotUrls(string include) => Assert.False(UrlSource.LooksLikeUrl(include));

    [Theory]
    [InlineData("https://a.example/x.png", "abc")]
    [InlineData("https://a.example/x.png", "zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    public void BadSha256_OrSha256WithoutUrl_IsKP4003(string url, string sha256)
    {
        var (source, diagnostics) = Parse("img/a.png", url, sha256);

        Assert.Null(source);
        Assert.Equal(DiagnosticCodes.InvalidSha256, Assert.Single(diagnostics).Code);
    }

    [Fact]
    public void Sha256_IsAcceptedInEitherCaseAndWithItsPrefix()
    {
        const string hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        Assert.Equal(hex, Parse("img/a.png", "https://a.example/x.png", hex.ToUpperInvariant()).Source!.Sha256);
        Assert.Equal(hex, Parse("img/a.png", "https://a.example/x.png", "sha256:" + hex).Source!.Sha256);
    }

    // ---- in a batch ----

    private ImageRequest UrlRequest(string logicalPath, string url, string? sha256 = null, string format = "webp") =>
        ws.Request(logicalPath, ("Format", format), ("Width", "320"), ("Url", url), ("Sha256", sha256 ?? ""));

    [Fact]
    public void Batch_ConvertsAPinnedUrl_ThenIsUpToDateWithoutTheNetwork()
    {
        server.Serve("/photos/concert.jpg", photo);
        ws.WriteSource("img/local.png", FixtureBytes("alpha-layer-1-fill.png"));
        var requests = new List<ImageRequest>
        {
            UrlRequest("img/hero.jpg", server.Url("/photos/concert.jpg"), Sha256Of(photo)),
            ws.Request("img/local.png", ("Format", "webp")),
        };

        BatchResult first = ws.Run(requests);

        ItemResult hero = first.Items[0];
        Assert.True(hero.Diagnostic == null, hero.Diagnostic?.Message);
        Assert.Equal(ItemOutcome.Converted, hero.Outcome);
        Assert.Equal(requests[0], hero.Request);
        Assert.Equal(Path.Combine(ws.Output, "img", "hero.webp"), hero.OutputFile);
        Assert.Equal(new DownloadInfo(server.Url("/photos/concert.jpg"), Sha256Of(photo), photo.Length, true), hero.Download);
        Assert.Equal(photo.Length, hero.SourceBytes);
        using (Image output = Image.NewFromFile(hero.OutputFile))
        {
            Assert.Equal("webpload", (string)output.Get("vips-loader"));
            Assert.Equal(320, output.Width);
            Assert.Equal(output.Width, hero.Width);
            Assert.Equal(output.Height, hero.Height);
        }

        Assert.Equal(ItemOutcome.Converted, first.Items[1].Outcome);
        Assert.Equal(1, server.TotalHits);

        BatchResult second = ws.Run(requests);

        Assert.Equal(new[] { ItemOutcome.UpToDate, ItemOutcome.UpToDate }, second.Items.Select(i => i.Outcome));
        Assert.False(second.Items[0].Download!.Downloaded);
        Assert.Equal(hero.Width, second.Items[0].Width);
        Assert.Equal(1, server.TotalHits);
    }

    [Fact]
    public void Batch_TwoItemsFromOneUrl_DownloadItOnce()
    {
        server.Serve("/concert.jpg", photo);
        string sha = Sha256Of(photo);
        var requests = new List<ImageRequest>
        {
            UrlRequest("img/hero.jpg", server.Url("/concert.jpg"), sha, "webp"),
            UrlRequest("img/hero.jpg", server.Url("/concert.jpg"), sha, "avif"),
        };

        BatchResult result = ws.Run(requests);

        Assert.All(result.Items, i => Assert.Equal(ItemOutcome.Converted, i.Outcome));
        Assert.Equal(1, server.Hits("/concert.jpg"));
    }

    [Fact]
    public void Batch_UnpinnedUrl_ConvertsWithAWarningShowingTheHashToPin()
    {
        server.Serve("/concert.jpg", photo);

        BatchResult result = ws.Run(new[] { UrlRequest("img/hero.jpg", server.Url("/concert.jpg")) });

        ItemResult item = Assert.Single(result.Items);
        Assert.Equal(ItemOutcome.Converted, item.Outcome);
        Assert.Equal(DiagnosticCodes.UrlNotPinned, item.Diagnostic!.Code);
        Assert.Equal(DiagnosticSeverity.Warning, item.Diagnostic.Severity);
        Assert.Contains($"Sha256=\"{Sha256Of(photo)}\"", item.Diagnostic.Message);
        Assert.Equal(Path.Combine(ws.Project, "p.csproj"), item.Diagnostic.File);
    }

    [Fact]
    public void Batch_RequirePinned_RefusesAnUnpinnedUrl_WithTheHash_AndConvertsTheRest()
    {
        server.Serve("/concert.jpg", photo);
        ws.WriteSource("img/local.png", FixtureBytes("alpha-layer-1-fill.png"));
        var requests = new List<ImageRequest> { UrlRequest("img/hero.jpg", server.Url("/concert.jpg")), ws.Request("img/local.png", ("Format", "webp")) };
        BatchSettings settings = ws.Settings() with { Downloads = new DownloadSettings { RequirePinned = true } };

        BatchResult result = new ImageBatch(settings).Run(requests);

        ItemResult hero = result.Items[0];
        Assert.Equal(ItemOutcome.Failed, hero.Outcome);
        Assert.Equal(DiagnosticCodes.UrlNotPinned, hero.Diagnostic!.Code);
        Assert.Equal(DiagnosticSeverity.Error, hero.Diagnostic.Severity);
        Assert.Contains(Sha256Of(photo), hero.Diagnostic.Message);
        Assert.False(File.Exists(Path.Combine(ws.Output, "img", "hero.webp")));
        Assert.Equal(ItemOutcome.Converted, result.Items[1].Outcome);
    }

    [Fact]
    public void Batch_ACorruptDownload_IsReportedAgainstTheUrl_NotTheCacheFile()
    {
        byte[] cut = photo.AsSpan(0, photo.Length / 3).ToArray();
        server.Serve("/cut.jpg", cut);

        ItemResult item = Assert.Single(ws.Run(new[] { UrlRequest("img/cut.jpg", server.Url("/cut.jpg"), Sha256Of(cut)) }).Items);

        Assert.Equal(ItemOutcome.Failed, item.Outcome);
        Assert.Equal(DiagnosticCodes.CannotDecode, item.Diagnostic!.Code);
        Assert.Contains($"'{server.Url("/cut.jpg")}'", item.Diagnostic.Message);
        Assert.DoesNotContain("downloads", item.Diagnostic.Message);
        Assert.Equal(Path.Combine(ws.Project, "p.csproj"), item.Diagnostic.File);
    }

    [Fact]
    public void Batch_AFailedDownload_FailsOnlyItsItem()
    {
        ws.WriteSource("img/local.png", FixtureBytes("alpha-layer-1-fill.png"));
        var requests = new List<ImageRequest> { UrlRequest("img/gone.jpg", server.Url("/gone.jpg")), ws.Request("img/local.png", ("Format", "webp")) };

        BatchResult result = ws.Run(requests);

        Assert.Equal(DiagnosticCodes.DownloadFailed, result.Items[0].Diagnostic!.Code);
        Assert.StartsWith("KoalaImage 'img/gone.jpg': downloading Url '" + server.Url("/gone.jpg") + "' failed: HTTP 404", result.Items[0].Diagnostic!.Message);
        Assert.Equal(ItemOutcome.Converted, result.Items[1].Outcome);
    }

    [Fact]
    public void UrlJob_InTheKoalapicProcess_DownloadsLogsAndConverts_WithTheDownloadPropertiesApplied()
    {
        server.Serve("/concert.jpg", photo);
        JobItem pinned = BatchWorkspace.Item("img/hero.jpg", ("Url", server.Url("/concert.jpg")), ("Sha256", Sha256Of(photo)), ("Format", "webp"), ("Width", "100"));
        JobInput input = ws.Job(new[] { pinned });
        input.Properties[JobSettings.DownloadTimeout] = "7";
        input.Natives = Koalapic.Natives;

        string jobFile = Path.Combine(ws.Root, "job.json");
        File.WriteAllText(jobFile, JobProtocol.Serialize(input));
        KoalapicRun run = Koalapic.Run(jobFile);

        Assert.True(run.Result.Succeeded, string.Join("\n", run.Result.Diagnostics));
        JobOutput output = Assert.Single(run.Result.Outputs);
        Assert.Equal(("img/hero.webp", 100), (output.TargetPath, output.Width!.Value));
        Assert.Contains(run.Messages, m => m.Log?.Text == $"KoalaPic: downloaded {server.Url("/concert.jpg")} ({BatchLog.FormatBytes(photo.Length)}, sha256 {Sha256Of(photo)})");

        // Offline crosses too: the cached copy is used, nothing is fetched.
        input.Properties[JobSettings.Offline] = "true";
        File.WriteAllText(jobFile, JobProtocol.Serialize(input));
        int hits = server.TotalHits;
        Assert.True(Koalapic.Run(jobFile).Result.Succeeded);
        Assert.Equal(hits, server.TotalHits);
    }
}
