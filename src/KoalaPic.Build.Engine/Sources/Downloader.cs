using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace KoalaPic.Build.Engine;

/// <summary>How URL sources are fetched: the KoalaPicOffline, KoalaPicRequirePinnedUrls, KoalaPicMaxDownloadBytes and KoalaPicDownloadTimeout properties.</summary>
public sealed record DownloadSettings
{
    /// <summary>50 MB: far above any image a page serves, far below what would hurt a build machine.</summary>
    public const long DefaultMaxBytes = 50L * 1024 * 1024;

    public const double DefaultTimeoutSeconds = 60;

    public const int DefaultMaxRedirects = 5;

    public const int DefaultMaxParallelDownloads = 4;

    /// <summary>No network at all: URLs come from the download cache or fail with KP4010.</summary>
    public bool Offline { get; init; }

    /// <summary>A Url without Sha256 is an error (KP4004) instead of a warning; it is not converted.</summary>
    public bool RequirePinned { get; init; }

    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>For the whole of one download, from connecting to the last byte.</summary>
    public double TimeoutSeconds { get; init; } = DefaultTimeoutSeconds;

    public int MaxRedirects { get; init; } = DefaultMaxRedirects;

    public int MaxParallelDownloads { get; init; } = DefaultMaxParallelDownloads;
}

/// <summary>Where a URL item's bytes came from, for the job report.</summary>
/// <param name="Sha256">The SHA-256 of the bytes converted.</param>
/// <param name="Downloaded">True when this build fetched them from the network; false when they came from the download cache.</param>
public sealed record DownloadInfo(string Url, string Sha256, long Bytes, bool Downloaded);

/// <summary>
/// Fetches URL sources into a content-addressed download cache (<c>&lt;KoalaPicCacheDir&gt;/downloads/&lt;2 hex&gt;/&lt;sha256&gt;</c>),
/// verified against the item's Sha256 before use. A pinned URL in the cache never touches the network. Downloads are
/// started together when a batch starts and run beside the conversions, a few at a time; items that share a URL share
/// one download.
/// </summary>
internal sealed class UrlDownloader : IDisposable
{
    private readonly string root;
    private readonly DownloadSettings settings;
    private readonly SemaphoreSlim gate;
    private readonly CancellationTokenSource stop;
    private readonly Lazy<HttpClient> client;
    private readonly ConcurrentDictionary<string, Lazy<Task<Fetched>>> fetches = new(StringComparer.Ordinal);
    private int requestsSent;

    /// <param name="cacheDirectory">KoalaPicCacheDir; downloads go to its downloads/ folder.</param>
    public UrlDownloader(string cacheDirectory, DownloadSettings settings, CancellationToken cancellationToken)
    {
        root = JobLayout.DownloadsDirectory(cacheDirectory);
        this.settings = settings;
        gate = new SemaphoreSlim(Math.Max(1, settings.MaxParallelDownloads));
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        client = new Lazy<HttpClient>(CreateClient);
    }

    /// <summary>HTTP requests sent so far, redirects included (for tests: a cached, pinned URL sends none).</summary>
    public int RequestsSent => Volatile.Read(ref requestsSent);

    /// <summary>What one fetch gave: a verified local file, or why there is none.</summary>
    internal sealed record Fetched(string? File, DownloadInfo? Info, string? Code, string? Reason)
    {
        public bool Succeeded => File != null;
    }

    /// <summary>Starts fetching every URL the requests name, so they download while local images convert.</summary>
    public void Prefetch(IEnumerable<ImageRequest> requests)
    {
        foreach (ImageRequest request in requests)
        {
            if (request.Url != null)
            {
                _ = Start(request.Url);
            }
        }
    }

    public Task<Fetched> Start(UrlSource source) =>
        fetches.GetOrAdd(source.Url + "\n" + source.Sha256, _ => new Lazy<Task<Fetched>>(() => Task.Run(() => FetchOrDescribeAsync(source, stop.Token)))).Value;

    private async Task<Fetched> FetchOrDescribeAsync(UrlSource source, CancellationToken cancellationToken)
    {
        try
        {
            return await FetchAsync(source, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug or an odd server must fail this item with a code, not the build with a stack trace.
            return Failed(DiagnosticCodes.UnexpectedError, $"downloading Url '{source.Url}' failed unexpectedly: {ex.GetType().Name}: {ex.Message}. Please report this.");
        }
    }

    /// <summary>
    /// Runs <paramref name="convert"/> on the downloaded file of a URL item and returns its result as the item's: the
    /// request as the user gave it, the download's facts, diagnostics that point at the project file and name the URL.
    /// </summary>
    public ItemResult Process(ImageRequest request, Func<ImageRequest, ItemResult> convert, CancellationToken cancellationToken)
    {
        UrlSource source = request.Url!;
        Fetched fetched;
        try
        {
            fetched = Start(source).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!fetched.Succeeded)
        {
            return new ItemResult(request, "", ItemOutcome.Failed, 0, 0, Diagnostic.Error(fetched.Code!, $"KoalaImage '{request.ItemSpec}': {fetched.Reason}", source.DeclaredIn));
        }

        DownloadInfo info = fetched.Info!;
        if (source.Sha256 == null && settings.RequirePinned)
        {
            return new ItemResult(request, "", ItemOutcome.Failed, info.Bytes, 0, Diagnostic.Error(
                DiagnosticCodes.UrlNotPinned,
                $"KoalaImage '{request.ItemSpec}': KoalaPicRequirePinnedUrls is true and Url '{source.Url}' has no Sha256, so it was not converted. The bytes it serves now have Sha256=\"{info.Sha256}\": add that to the item if you trust them.",
                source.DeclaredIn)) { Download = info };
        }

        ItemResult result = convert(request with { SourcePath = fetched.File! });
        Diagnostic? diagnostic = result.Diagnostic;
        if (diagnostic != null)
        {
            // Messages about the source name the URL, not the download cache's file, and point at the project file.
            diagnostic = diagnostic with { Message = diagnostic.Message.Replace("'" + fetched.File + "'", "'" + source.Url + "'"), File = source.DeclaredIn };
        }
        else if (source.Sha256 == null)
        {
            diagnostic = Diagnostic.Warning(
                DiagnosticCodes.UrlNotPinned,
                $"KoalaImage '{request.ItemSpec}': Url '{source.Url}' has no Sha256, so whatever the server sends is converted. Pin the bytes this build converted: Sha256=\"{info.Sha256}\".",
                source.DeclaredIn);
        }

        return result with { Request = request, Diagnostic = diagnostic, Download = info };
    }

    public void Dispose()
    {
        stop.Cancel();
        if (client.IsValueCreated)
        {
            client.Value.Dispose();
        }

        stop.Dispose();
    }

    /// <summary>The cache file of bytes with this SHA-256.</summary>
    internal string PathFor(string sha256) => Path.Combine(root, sha256.Substring(0, 2), sha256);

    /// <summary>Which bytes a URL gave last (for unpinned URLs in offline builds).</summary>
    private string IndexPathFor(string url) => Path.Combine(root, "urls", Sha256Hex(Encoding.UTF8.GetBytes(url)));

    private async Task<Fetched> FetchAsync(UrlSource source, CancellationToken cancellationToken)
    {
        if (source.Sha256 != null && ReadVerified(source.Sha256) is { } pinned)
        {
            return Cached(source, source.Sha256, pinned);
        }

        if (settings.Offline)
        {
            if (source.Sha256 == null && ReadIndex(source.Url) is string last && ReadVerified(last) is { } lastBytes)
            {
                return Cached(source, last, lastBytes);
            }

            string what = source.Sha256 != null ? $" with Sha256 {source.Sha256}" : "";
            return Failed(
                DiagnosticCodes.NotCachedOffline,
                $"KoalaPicOffline is true and Url '{source.Url}'{what} is not in the download cache '{root}', so it was not converted. Build once without KoalaPicOffline to download it.");
        }

        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await DownloadAsync(source, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Fetched> DownloadAsync(UrlSource source, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        byte[] bytes;
        try
        {
            var uri = new Uri(source.Url);
            for (int redirects = 0; ; redirects++)
            {
                Interlocked.Increment(ref requestsSent);
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                using HttpResponseMessage response = await client.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location != null)
                {
                    Uri next = response.Headers.Location.IsAbsoluteUri ? response.Headers.Location : new Uri(uri, response.Headers.Location);
                    if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                    {
                        return Failed(DiagnosticCodes.RedirectRefused, $"Url '{source.Url}' redirects to '{UrlSource.Redact(next.OriginalString)}', which is not http or https, so it was not followed.");
                    }

                    if (redirects >= settings.MaxRedirects)
                    {
                        return Failed(DiagnosticCodes.RedirectRefused, $"Url '{source.Url}' redirects more than {settings.MaxRedirects} times (the last to '{UrlSource.Redact(next.OriginalString)}'), so it was not followed further. Use the final URL.");
                    }

                    uri = next;
                    continue;
                }

                if (status < 200 || status > 299)
                {
                    return Failed(DiagnosticCodes.DownloadFailed, $"downloading Url '{source.Url}' failed: HTTP {status} ({response.ReasonPhrase}){(uri.AbsoluteUri != new Uri(source.Url).AbsoluteUri ? $" from '{uri}'" : "")}.");
                }

                if (response.Content.Headers.ContentLength is long declared && declared > settings.MaxBytes)
                {
                    return TooLarge(source, $"the server says {declared.ToString(CultureInfo.InvariantCulture)} bytes");
                }

                byte[]? read = await ReadAtMostAsync(response.Content, settings.MaxBytes, timeout.Token).ConfigureAwait(false);
                if (read == null)
                {
                    return TooLarge(source, "the server sent more");
                }

                bytes = read;
                break;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(DiagnosticCodes.DownloadTimeout, $"downloading Url '{source.Url}' took longer than KoalaPicDownloadTimeout ({settings.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s), so it was not converted. Check the server, or raise KoalaPicDownloadTimeout.");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or WebException)
        {
            return Failed(DiagnosticCodes.DownloadFailed, $"downloading Url '{source.Url}' failed: {Describe(ex)}.");
        }

        string sha256 = Sha256Hex(bytes);
        if (source.Sha256 != null && sha256 != source.Sha256)
        {
            return Failed(
                DiagnosticCodes.HashMismatch,
                $"the bytes downloaded from Url '{source.Url}' do not match its Sha256, so nothing was converted: expected {source.Sha256}, actual {sha256}. If the image was changed on purpose, set Sha256=\"{sha256}\".");
        }

        string file = PathFor(sha256);
        try
        {
            if (!AtomicFile.HasContent(file, bytes))
            {
                AtomicFile.Write(file, bytes);
            }

            AtomicFile.WriteIfChanged(IndexPathFor(source.Url), Encoding.UTF8.GetBytes(sha256 + "\n" + source.Url + "\n"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failed(DiagnosticCodes.CannotWrite, $"cannot write the download of Url '{source.Url}' to '{file}' (KoalaPicCacheDir): {ex.Message}");
        }

        return new Fetched(file, new DownloadInfo(source.Url, sha256, bytes.Length, Downloaded: true), null, null);
    }

    private Fetched TooLarge(UrlSource source, string how) =>
        Failed(DiagnosticCodes.DownloadTooLarge, $"Url '{source.Url}' is larger than KoalaPicMaxDownloadBytes ({settings.MaxBytes.ToString(CultureInfo.InvariantCulture)} bytes; {how}), so it was not downloaded. Raise KoalaPicMaxDownloadBytes if the image is meant to be that large.");

    private static Fetched Failed(string code, string reason) => new(null, null, code, reason);

    private Fetched Cached(UrlSource source, string sha256, byte[] bytes) =>
        new(PathFor(sha256), new DownloadInfo(source.Url, sha256, bytes.Length, Downloaded: false), null, null);

    /// <summary>The cached bytes with this hash, or null when missing or damaged (a damaged file is removed).</summary>
    private byte[]? ReadVerified(string sha256)
    {
        string file = PathFor(sha256);
        try
        {
            if (!File.Exists(file))
            {
                return null;
            }

            byte[] bytes = SourceFile.ReadAllBytes(file, settings.MaxBytes);
            if (Sha256Hex(bytes) == sha256)
            {
                return bytes;
            }

            AtomicFile.TryDelete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>An index file is a hash and a URL: anything larger is not one of ours.</summary>
    private const int MaxIndexBytes = 64 * 1024;

    private string? ReadIndex(string url)
    {
        try
        {
            string path = IndexPathFor(url);
            if (!File.Exists(path))
            {
                return null;
            }

            string[] lines = Encoding.UTF8.GetString(SourceFile.ReadAllBytes(path, MaxIndexBytes)).Split('\n');
            return lines.Length >= 2 && lines[1] == url ? UrlSource.NormalizeSha256(lines[0]) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The body, or null as soon as it passes <paramref name="limit"/> bytes (a lying or missing Content-Length).</summary>
    internal static async Task<byte[]?> ReadAtMostAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
#if NETFRAMEWORK
        using Stream stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
#else
        using Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
#endif
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        while (true)
        {
            int n = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + n > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, n);
        }
    }

    private static string Describe(Exception ex)
    {
        // HttpRequestException's own message is generic ("An error occurred while sending the request"); the cause says what.
        var messages = new List<string>();
        for (Exception? e = ex; e != null; e = e.InnerException)
        {
            string m = e.Message.Trim().TrimEnd('.');
            if (m.Length > 0 && !messages.Contains(m))
            {
                messages.Add(m);
            }
        }

        // Keep the most specific words: drop a message that another one already contains ("Connection refused" inside
        // "Connection refused (host:443)"), and the generic wrapper when there is a cause.
        var kept = messages
            .Where(m => !messages.Any(other => other != m && other.IndexOf(m, StringComparison.Ordinal) >= 0))
            .Where(m => messages.Count == 1 || !m.StartsWith("An error occurred while sending the request", StringComparison.Ordinal))
            .ToList();
        return string.Join(": ", kept.Count > 0 ? kept : messages);
    }

    internal static string Sha256Hex(byte[] bytes)
    {
        using var sha = SHA256.Create();
        return ContentKey.ToHex(sha.ComputeHash(bytes));
    }

    private static HttpClient CreateClient()
    {
        // Redirects are followed by hand: each hop's scheme is checked and their number bounded with a clear message.
#if NETFRAMEWORK
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
#else
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(30) };
#endif
        var http = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        string version = typeof(UrlDownloader).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0";
        http.DefaultRequestHeaders.UserAgent.ParseAdd("KoalaPic.Build/" + version);
        return http;
    }
}
