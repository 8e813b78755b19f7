using System.Text;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// KoalaPicRemoteCache through the whole job (ImageJob): a real nginx for the hit, the miss, push, no push and
/// credentials; a loopback server for the faults nginx cannot make. Every fault: the job converts locally, every output
/// decodes, and exactly one warning names the remote, after which the remote is not asked again.
/// </summary>
public class RemoteCacheTests : IClassFixture<NginxFixture>
{
    private const int Images = 3;

    private readonly NginxServer nginx;

    public RemoteCacheTests(NginxFixture fixture)
    {
        nginx = fixture.Server;
    }

    [SkippableFact]
    public void Push_ThenAFreshWorkspace_TakesEveryImageFromTheRemote_AndStoresItLocally()
    {
        nginx.Require();
        string url = nginx.Url("cache", Guid.NewGuid().ToString("N"));

        using var cold = new BatchWorkspace();
        JobResult pushed = RunJob(cold, url, ("KoalaPicRemoteCachePush", "true"));
        Assert.Empty(pushed.Diagnostics);
        Assert.Equal(Images, ReadReport(cold).Items.Count(i => i.Status == ItemStatus.Converted));
        Assert.Equal(Images, nginx.Stored("cache", new Uri(url).Segments.Last().TrimEnd('/')).Count);

        using var warm = new BatchWorkspace();
        JobResult served = RunJob(warm, url);
        Assert.Empty(served.Diagnostics);
        Assert.All(ReadReport(warm).Items, i => Assert.Equal("from_remote_cache", i.Status));
        Assert.Contains(served.Log, l => l.Text.Contains($"{Images} up to date ({Images} from the remote cache)", StringComparison.Ordinal));
        foreach (string name in OutputNames)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(cold.Output, name)), File.ReadAllBytes(Path.Combine(warm.Output, name)));
        }

        // Stored locally as well: with the remote gone, a third build of that machine still converts nothing.
        Directory.Delete(warm.Output, recursive: true);
        File.Delete(warm.StateFile);
        JobResult offline = RunJob(warm, "http://127.0.0.1:" + NginxServer.FreePort() + "/cache/");
        Assert.Empty(offline.Diagnostics);
        Assert.All(ReadReport(warm).Items, i => Assert.Equal(ItemStatus.FromCache, i.Status));
    }

    /// <summary>Two CI jobs of one commit push the same keys: PUT is idempotent and nginx renames a whole body into place.</summary>
    [SkippableFact]
    public void TwoBuildsPushingTheSameKeysAtOnce_BothSucceed_AndAThirdGetsValidEntries()
    {
        nginx.Require();
        string folder = Guid.NewGuid().ToString("N");
        string url = nginx.Url("cache", folder);
        using var first = new BatchWorkspace();
        using var second = new BatchWorkspace();
        var pushed = new JobResult[2];

        Parallel.Invoke(
            () => pushed[0] = RunJob(first, url, ("KoalaPicRemoteCachePush", "true")),
            () => pushed[1] = RunJob(second, url, ("KoalaPicRemoteCachePush", "true")));

        Assert.All(pushed, result => Assert.Empty(result.Diagnostics));
        Assert.Equal(Images, nginx.Stored("cache", folder).Count);
        using var third = new BatchWorkspace();
        JobResult served = RunJob(third, url);
        Assert.Empty(served.Diagnostics);
        Assert.All(ReadReport(third).Items, i => Assert.Equal(ItemStatus.FromRemoteCache, i.Status));
        foreach (string name in OutputNames)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(first.Output, name)), File.ReadAllBytes(Path.Combine(third.Output, name)));
        }
    }

    [SkippableFact]
    public void WithoutPush_AMissConverts_AndNothingIsStored()
    {
        nginx.Require();
        string folder = Guid.NewGuid().ToString("N");
        using var ws = new BatchWorkspace();

        JobResult result = RunJob(ws, nginx.Url("cache", folder));

        Assert.Empty(result.Diagnostics);
        Assert.All(ReadReport(ws).Items, i => Assert.Equal(ItemStatus.Converted, i.Status));
        Assert.Empty(nginx.Stored("cache", folder));
    }

    [SkippableFact]
    public void RightCredentials_FromTheEnvironment_PushAndRead()
    {
        nginx.Require();
        string folder = Guid.NewGuid().ToString("N");
        string url = nginx.Url("private", folder);
        using var credentials = new EnvironmentVariables(("KP_TEST_CACHE_USER", NginxServer.User), ("KP_TEST_CACHE_PASSWORD", NginxServer.Password));
        var auth = new[] { ("KoalaPicRemoteCacheUserVariable", "KP_TEST_CACHE_USER"), ("KoalaPicRemoteCachePasswordVariable", "KP_TEST_CACHE_PASSWORD") };

        using var cold = new BatchWorkspace();
        Assert.Empty(RunJob(cold, url, auth.Append(("KoalaPicRemoteCachePush", "true")).ToArray()).Diagnostics);
        using var warm = new BatchWorkspace();
        Assert.Empty(RunJob(warm, url, auth).Diagnostics);

        Assert.Equal(Images, nginx.Stored("private", folder).Count);
        Assert.All(ReadReport(warm).Items, i => Assert.Equal(ItemStatus.FromRemoteCache, i.Status));
        string report = File.ReadAllText(new JobLayout(Path.Combine(warm.Root, "obj", "koalapic")).ReportFile);
        Assert.DoesNotContain(NginxServer.Password, report);
    }

    [SkippableFact]
    public void WrongCredentials_OneWarningNamingTheRemote_NeverThePassword_AndTheBuildConverts()
    {
        nginx.Require();
        string url = nginx.Url("private", Guid.NewGuid().ToString("N"));
        using var credentials = new EnvironmentVariables(("KP_TEST_CACHE_USER", NginxServer.User), ("KP_TEST_CACHE_PASSWORD", "wrong-password-xyz"));
        using var ws = new BatchWorkspace();

        JobResult result = RunJob(ws, url, ("KoalaPicRemoteCacheUserVariable", "KP_TEST_CACHE_USER"), ("KoalaPicRemoteCachePasswordVariable", "KP_TEST_CACHE_PASSWORD"), ("KoalaPicRemoteCachePush", "true"));

        Diagnostic warning = AssertConvertedLocallyWithOneWarning(ws, result, url);
        Assert.Contains("HTTP 401", warning.Message);
        Assert.Contains("$KP_TEST_CACHE_USER and $KP_TEST_CACHE_PASSWORD were refused", warning.Message);
        Assert.DoesNotContain("wrong-password-xyz", string.Join("\n", result.Diagnostics.Select(d => d.Message).Concat(result.Log.Select(l => l.Text))));
    }

    [SkippableFact]
    public void NoCredentials_ForAServerThatWantsThem_OneWarningSayingHowToGiveThem()
    {
        nginx.Require();
        string url = nginx.Url("private", Guid.NewGuid().ToString("N"));
        using var ws = new BatchWorkspace();

        Diagnostic warning = AssertConvertedLocallyWithOneWarning(ws, RunJob(ws, url), url);

        Assert.Contains("KoalaPicRemoteCacheTokenVariable", warning.Message);
    }

    [SkippableFact]
    public void ServerError_FromNginx_OneWarning_AndTheBuildConverts()
    {
        nginx.Require();
        string url = nginx.Url("broken", "x");
        using var ws = new BatchWorkspace();

        Diagnostic warning = AssertConvertedLocallyWithOneWarning(ws, RunJob(ws, url), url);

        Assert.Contains("HTTP 503", warning.Message);
    }

    [SkippableFact]
    public void PushRefused_OneKP4021_AndTheOutputsAreWritten()
    {
        nginx.Require();
        string url = nginx.Url("readonly", Guid.NewGuid().ToString("N"));
        using var ws = new BatchWorkspace();

        Diagnostic warning = AssertConvertedLocallyWithOneWarning(ws, RunJob(ws, url, ("KoalaPicRemoteCachePush", "true"), ("KoalaPicMaxParallelism", "1")), url);

        Assert.Equal(DiagnosticCodes.RemoteCachePushFailed, warning.Code);
        Assert.Contains("failed to store: PUT " + url, warning.Message);
        Assert.Contains("HTTP 405", warning.Message);
    }

    [Fact]
    public void ConnectionRefused_OneWarning_AndTheRemoteIsNotAskedAgain()
    {
        string url = "http://127.0.0.1:" + NginxServer.FreePort() + "/cache/";
        using var ws = new BatchWorkspace();

        Diagnostic warning = AssertConvertedLocallyWithOneWarning(ws, RunJob(ws, url), url);

        Assert.Contains("GET " + url, warning.Message);
    }

    public static TheoryData<string, string> Faults => new()
    {
        { "401", "HTTP 401" },
        { "403", "HTTP 403" },
        { "500", "HTTP 500" },
        { "trickle", "took longer than KoalaPicRemoteCacheTimeout (1 s)" },
        { "stall", "took longer than KoalaPicRemoteCacheTimeout (1 s)" },
        { "truncated", "failed: " },
        { "corrupted", "fails its checksum" },
        { "redirect-loop", "redirects more than 3 times" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public void Fault_ConvertsLocally_WithOneWarningNamingTheRemote_AndAsksNoMore(string fault, string expected)
    {
        using var server = new LoopbackHttpServer();
        switch (fault)
        {
            case "401":
            case "403":
            case "500":
                server.Status(LoopbackHttpServer.AnyPath, int.Parse(fault, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case "trickle":
                server.Trickle(LoopbackHttpServer.AnyPath, new byte[1000], TimeSpan.FromMilliseconds(100));
                break;
            case "stall":
                server.Stall(LoopbackHttpServer.AnyPath);
                break;
            case "truncated":
                server.Truncate(LoopbackHttpServer.AnyPath, new byte[5000], 100);
                break;
            case "corrupted":
                server.Serve(LoopbackHttpServer.AnyPath, Encoding.ASCII.GetBytes("<html>not a cache entry, but long enough to have a trailer of 32 bytes</html>"));
                break;
            case "redirect-loop":
                server.Redirect(LoopbackHttpServer.AnyPath, "/loop");
                break;
        }

        string url = server.Url("/cache/");
        using var ws = new BatchWorkspace();
        // A short timeout only where the fault is slowness: on a loaded machine it turned a quick HTTP 500 into a timeout.
        string timeout = fault is "trickle" or "stall" ? "1" : "30";
        JobResult result = RunJob(ws, url, ("KoalaPicRemoteCacheTimeout", timeout), ("KoalaPicMaxParallelism", "1"));

        Diagnostic warning = AssertConvertedLocallyWithOneWarning(ws, result, url);
        Assert.Contains(expected, warning.Message);
        int perLookup = fault == "redirect-loop" ? RemoteCacheSettings.DefaultMaxRedirects + 1 : 1;
        Assert.Equal(perLookup, server.TotalHits);
    }

    [Theory]
    [InlineData(true, "sent an entry of 300000 bytes, more than the 1000 an entry may have, so it was not read")]
    [InlineData(false, "sent more than the 1000 bytes an entry may have, so the rest was not read")]
    public void OversizedEntry_IsRefusedWithoutReadingItAll(bool declared, string expected)
    {
        using var server = new LoopbackHttpServer();
        if (declared)
        {
            server.Serve(LoopbackHttpServer.AnyPath, new byte[300_000]);
        }
        else
        {
            server.ServeUndeclared(LoopbackHttpServer.AnyPath, new byte[300_000]);
        }

        using var remote = new RemoteOutputCache(new RemoteCacheSettings { BaseUrl = server.Url("/c/"), MaxEntryBytes = 1000 }, 1, "p.csproj");

        Assert.Null(remote.Find("3f9c0d5b2a7e41c88d0b6f1e2a4c91e1", ImageFormat.Webp, CancellationToken.None));
        Assert.Null(remote.Find("00000d5b2a7e41c88d0b6f1e2a4c91e1", ImageFormat.Webp, CancellationToken.None));

        Diagnostic warning = Assert.Single(remote.Diagnostics);
        Assert.Equal(DiagnosticCodes.RemoteCacheFailed, warning.Code);
        Assert.Contains(expected, warning.Message);
        Assert.Equal(1, server.TotalHits);
    }

    [Fact]
    public void EntryWithAGoodChecksum_ButNotTheExpectedFormat_IsDiscarded_AndConvertedLocally()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/a.png", ImageBatchTests.GradientPng(1));
        ImageRequest request = ws.Request("img/a.png", ("Format", "webp"));
        string key = ContentKey.Compute(File.ReadAllBytes(ws.Source("img/a.png")), request.Options, VipsRuntime.EngineVersion);
        using var server = new LoopbackHttpServer();
        // A well-formed entry whose image is a PNG: only decoding it shows it is not the webp asked for.
        server.Serve("/c/" + key + ".webp", CacheEntry.Format(key, ImageBatchTests.GradientPng(1), new OutputFacts(96, 64, null)));
        using var remote = new RemoteOutputCache(new RemoteCacheSettings { BaseUrl = server.Url("/c/") }, 1, "p.csproj");

        ItemResult result = Assert.Single(new ImageBatch(ws.Settings(), new LayeredOutputCache(new FolderOutputCache(ws.Cache), remote)).Run(new[] { request }).Items);

        Assert.Equal(ItemOutcome.Converted, result.Outcome);
        Assert.Equal("webp", Image.FindLoad(result.OutputFile)!.Contains("Webp", StringComparison.Ordinal) ? "webp" : "other");
        Assert.Contains("sent an entry whose image is not webp", Assert.Single(remote.Diagnostics).Message);
    }

    [Fact]
    public void EntryWhoseRecordedSizeIsNotItsImage_IsDiscarded()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("img/a.png", ImageBatchTests.GradientPng(2));
        ImageRequest request = ws.Request("img/a.png", ("Format", "png"));
        string key = ContentKey.Compute(File.ReadAllBytes(ws.Source("img/a.png")), request.Options, VipsRuntime.EngineVersion);
        using var server = new LoopbackHttpServer();
        server.Serve("/c/" + key + ".png", CacheEntry.Format(key, ImageBatchTests.GradientPng(2), new OutputFacts(40, 30, null)));
        using var remote = new RemoteOutputCache(new RemoteCacheSettings { BaseUrl = server.Url("/c/") }, 1, "p.csproj");

        ItemResult result = Assert.Single(new ImageBatch(ws.Settings(), new LayeredOutputCache(new FolderOutputCache(ws.Cache), remote)).Run(new[] { request }).Items);

        Assert.Equal(ItemOutcome.Converted, result.Outcome);
        Assert.Contains("whose image is 96x64 but records 40x30", Assert.Single(remote.Diagnostics).Message);
    }

    [Fact]
    public void Credentials_AreNotForwarded_OnARedirectToAnotherHost()
    {
        using var target = new LoopbackHttpServer();
        using var front = new LoopbackHttpServer();
        // Another port is another server: "localhost" vs "127.0.0.1" would be too, but ports are what a test can own.
        front.Redirect(LoopbackHttpServer.AnyPath, target.Url("/elsewhere"));
        using var remote = new RemoteOutputCache(new RemoteCacheSettings { BaseUrl = front.Url("/c/"), TokenVariable = "T" }, 1, "p.csproj", name => name == "T" ? "token-123" : null);

        Assert.Null(remote.Find("3f9c0d5b2a7e41c88d0b6f1e2a4c91e1", ImageFormat.Webp, CancellationToken.None));

        Assert.Equal(new[] { "Bearer token-123" }, front.Authorizations);
        Assert.Equal(1, target.TotalHits);
        Assert.Empty(target.Authorizations);
        Assert.Empty(remote.Diagnostics);
    }

    [Fact]
    public void Credentials_OverPlainHttpToAnotherHost_AreRefusedBeforeAnythingIsSent()
    {
        using var remote = new RemoteOutputCache(new RemoteCacheSettings { BaseUrl = "http://cache.example.com/koalapic/", TokenVariable = "T" }, 1, "p.csproj", name => name == "T" ? "token-123" : null);

        Assert.Null(remote.Find("3f9c0d5b2a7e41c88d0b6f1e2a4c91e1", ImageFormat.Webp, CancellationToken.None));

        Assert.Equal(0, remote.RequestsSent);
        Diagnostic warning = Assert.Single(remote.Diagnostics);
        Assert.Equal(DiagnosticCodes.RemoteCacheFailed, warning.Code);
        Assert.Contains("$T", warning.Message);
        Assert.DoesNotContain("token-123", warning.Message);
    }

    [Theory]
    [InlineData("https://user:hunter2@cache.example.com/k/", DiagnosticCodes.UrlWithCredentials, "https://***@cache.example.com/k/")]
    [InlineData("ftp://cache.example.com/k/", DiagnosticCodes.InvalidProperty, "KoalaPicRemoteCache=\"ftp://cache.example.com/k/\" is not valid")]
    [InlineData("cache.example.com", DiagnosticCodes.InvalidProperty, "KoalaPicRemoteCache=\"cache.example.com\" is not valid")]
    public void BadRemoteCacheUrl_IsAnError_WithTheCredentialsMasked(string url, string code, string expected)
    {
        var diagnostics = new List<Diagnostic>();

        JobSettings settings = JobSettings.Parse(new Dictionary<string, string> { [JobSettings.RemoteCache] = url }, "p.csproj", diagnostics);

        Assert.Null(settings.Remote);
        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal(code, error.Code);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void RemoteCacheSettings_Defaults_AndTheBaseEndsWithASlash()
    {
        var diagnostics = new List<Diagnostic>();

        RemoteCacheSettings remote = JobSettings.Parse(new Dictionary<string, string> { [JobSettings.RemoteCache] = "https://cache.example.com/koalapic" }, "p.csproj", diagnostics).Remote!;

        Assert.Empty(diagnostics);
        Assert.Equal("https://cache.example.com/koalapic/", remote.BaseUrl);
        Assert.False(remote.Push);
        Assert.Equal(RemoteCacheSettings.DefaultTimeoutSeconds, remote.TimeoutSeconds);
    }

    private static readonly string[] OutputNames = Enumerable.Range(0, Images).Select(i => Path.Combine("img", $"p{i}.webp")).ToArray();

    private static JobResult RunJob(BatchWorkspace ws, string url, params (string Name, string Value)[] properties)
    {
        var items = new List<JobItem>();
        for (int i = 0; i < Images; i++)
        {
            string relative = $"img/p{i}.png";
            if (!File.Exists(ws.Source(relative)))
            {
                ws.WriteSource(relative, ImageBatchTests.GradientPng(10 + i));
            }

            items.Add(BatchWorkspace.Item(relative, ("Format", "webp")));
        }

        JobInput input = ws.Job(items);
        input.Properties[JobSettings.RemoteCache] = url;
        foreach (var (name, value) in properties)
        {
            input.Properties[name] = value;
        }

        return ImageJob.Run(input);
    }

    private static JobReport ReadReport(BatchWorkspace ws) => JobReport.Read(new JobLayout(Path.Combine(ws.Root, "obj", "koalapic")).ReportFile)!;

    /// <summary>Every image converted here, every output decodes, and one warning (no error) names the remote.</summary>
    private static Diagnostic AssertConvertedLocallyWithOneWarning(BatchWorkspace ws, JobResult result, string url)
    {
        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Diagnostic warning = Assert.Single(result.Diagnostics);
        Assert.Contains(warning.Code, new[] { DiagnosticCodes.RemoteCacheFailed, DiagnosticCodes.RemoteCachePushFailed });
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("the remote cache '" + url + "'", warning.Message);
        Assert.All(ReadReport(ws).Items, i => Assert.Equal(ItemStatus.Converted, i.Status));
        foreach (string name in OutputNames)
        {
            using Image image = Image.NewFromFile(Path.Combine(ws.Output, name), access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            Assert.Equal(96, image.Width);
            Assert.Equal(96.0 * 64, image.Width * image.Height);
        }

        return warning;
    }

    /// <summary>Sets environment variables for one test, and restores them.</summary>
    private sealed class EnvironmentVariables : IDisposable
    {
        private readonly (string Name, string? Value)[] previous;

        public EnvironmentVariables(params (string Name, string Value)[] values)
        {
            previous = values.Select(v => (v.Name, Environment.GetEnvironmentVariable(v.Name))).ToArray();
            foreach (var (name, value) in values)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        public void Dispose()
        {
            foreach (var (name, value) in previous)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
