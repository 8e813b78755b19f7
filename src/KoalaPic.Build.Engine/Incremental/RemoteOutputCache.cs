using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The KoalaPicRemoteCache* properties: a shared cache server that speaks plain HTTP (<c>GET</c>/<c>PUT &lt;base&gt;/&lt;key&gt;.&lt;ext&gt;</c>,
/// as nginx's WebDAV module, Gradle's HTTP build cache nodes and artifact repositories do).
/// </summary>
public sealed record RemoteCacheSettings
{
    /// <summary>Ten seconds per request: a cache that is slower than that is slower than converting.</summary>
    public const double DefaultTimeoutSeconds = 10;

    /// <summary>64 MB: far above any output a page serves; a larger entry is refused unread.</summary>
    public const long DefaultMaxEntryBytes = 64L * 1024 * 1024;

    /// <summary>Redirects followed for one lookup: a load balancer or a storage front may send one, a loop sends many.</summary>
    public const int DefaultMaxRedirects = 3;

    /// <summary>The base URL, ending with '/'.</summary>
    public string BaseUrl { get; init; } = "";

    /// <summary>Store converted outputs on the server too (KoalaPicRemoteCachePush); by default the build only reads.</summary>
    public bool Push { get; init; }

    /// <summary>For the whole of one request, from connecting to the last byte.</summary>
    public double TimeoutSeconds { get; init; } = DefaultTimeoutSeconds;

    public long MaxEntryBytes { get; init; } = DefaultMaxEntryBytes;

    public int MaxRedirects { get; init; } = DefaultMaxRedirects;

    /// <summary>The names (never the values) of the environment variables holding a bearer token, or a user and password.</summary>
    public string TokenVariable { get; init; } = "";

    public string UserVariable { get; init; } = "";

    public string PasswordVariable { get; init; } = "";
}

/// <summary>
/// A shared cache on an HTTP server (KoalaPicRemoteCache), read by every build and written by those with
/// KoalaPicRemoteCachePush. It never breaks a build: the first failure of any kind (no connection, a timeout, an error
/// status, a refused login, an entry that is too large or fails its checks, too many redirects) becomes the build's one
/// warning (<see cref="DiagnosticCodes.RemoteCacheFailed"/>, or <see cref="DiagnosticCodes.RemoteCachePushFailed"/> when
/// a store failed first), and the build sends the server nothing more. Every entry it returns has passed its checksum, and decodes as its
/// format at the size its facts give. Credentials come from environment variables only, and are sent only to the
/// base URL's own scheme, host and port, over https or to loopback.
/// </summary>
public sealed class RemoteOutputCache : IOutputCache, IDisposable
{
    private readonly RemoteCacheSettings settings;
    private readonly Uri baseUri;
    private readonly AuthenticationHeaderValue? credentials;
    private readonly int parallelism;
    private readonly HttpClient client;
    private readonly object gate = new();
    private Diagnostic? failure;
    private readonly string projectFile;

    /// <param name="parallelism">Images converted at once, for libvips' threads when an entry is decoded to check it.</param>
    /// <param name="projectFile">Where the warning points.</param>
    public RemoteOutputCache(RemoteCacheSettings settings, int parallelism, string projectFile, Func<string, string?>? environment = null)
    {
        this.settings = settings;
        this.parallelism = parallelism;
        this.projectFile = projectFile;
        baseUri = new Uri(settings.BaseUrl);
        environment ??= Environment.GetEnvironmentVariable;
        credentials = Credentials(settings, environment);
        client = CreateClient(settings);
        if (credentials != null && baseUri.Scheme != Uri.UriSchemeHttps && !baseUri.IsLoopback)
        {
            // Refused before anything is sent: over plain http the token would cross the network readable.
            failure = Warning(DiagnosticCodes.RemoteCacheFailed, "is not used: it has credentials (from " + CredentialSource(settings) + ") but is plain http:// to a host other than loopback, and credentials are only sent over https. Use an https:// URL");
        }
    }

    /// <summary>The warning of this build, if the remote failed: one at most, for the first failure of a lookup or a store.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics
    {
        get
        {
            lock (gate)
            {
                return failure != null ? new[] { failure } : Array.Empty<Diagnostic>();
            }
        }
    }

    /// <summary>HTTP requests sent so far, redirects included (for tests: none after the first failure).</summary>
    public int RequestsSent => Volatile.Read(ref requestsSent);

    private int requestsSent;

    public CacheHit? Find(string key, ImageFormat format, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref failure) != null)
        {
            return null;
        }

        Uri uri = EntryUri(key, format);
        string? problem;
        byte[]? entry = null;
        try
        {
            (entry, problem) = GetAsync(uri, cancellationToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            problem = "took longer than KoalaPicRemoteCacheTimeout (" + settings.TimeoutSeconds.ToString(CultureInfo.InvariantCulture) + " s)";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever the network or the server does (HttpRequestException, IOException, a malformed answer) is the
            // remote's failure, never the build's.
            problem = "failed: " + Describe(ex);
        }

        if (problem == null && entry != null)
        {
            problem = Check(entry, key, format);
        }

        if (problem != null)
        {
            Fail(DiagnosticCodes.RemoteCacheFailed, "failed: GET " + uri.AbsoluteUri + " " + problem + ". Images are converted locally and this build does not ask the remote cache again");
            return null;
        }

        return entry == null ? null : new CacheHit(entry, FromRemote: true);
    }

    /// <summary>Pushes the entry when KoalaPicRemoteCachePush is true; a failure is a warning, never the item's error.</summary>
    public void Store(string key, ImageFormat format, byte[] entry)
    {
        if (!settings.Push || Volatile.Read(ref failure) != null)
        {
            return;
        }

        Uri uri = EntryUri(key, format);
        string? problem;
        try
        {
            problem = PutAsync(uri, entry).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            problem = "took longer than KoalaPicRemoteCacheTimeout (" + settings.TimeoutSeconds.ToString(CultureInfo.InvariantCulture) + " s)";
        }
        catch (Exception ex)
        {
            // A store must never fail the item (ImageBatch would report an IOException as KP2005).
            problem = "failed: " + Describe(ex);
        }

        if (problem != null)
        {
            Fail(DiagnosticCodes.RemoteCachePushFailed, "failed to store: PUT " + uri.AbsoluteUri + " " + problem + ". The outputs are fine; this build does not use the remote cache again");
        }
    }

    public string Describe(string key, ImageFormat format) => "the remote cache entry '" + EntryUri(key, format).AbsoluteUri + "' (KoalaPicRemoteCache)";

    public void Dispose() => client.Dispose();

    private Uri EntryUri(string key, ImageFormat format) => new(baseUri, key + ImageFormats.Extension(format));

    private Diagnostic Warning(string code, string text) =>
        Diagnostic.Warning(code, "KoalaPic: the remote cache '" + settings.BaseUrl + "' (KoalaPicRemoteCache) " + text + ".", projectFile);

    private void Fail(string code, string text)
    {
        lock (gate)
        {
            // One warning for the whole build: the first failure says what happened, and ends this build's use of the
            // remote (lookups and stores alike), so the others would only be its echoes.
            failure ??= Warning(code, text);
        }
    }

    private async Task<(byte[]? Entry, string? Problem)> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        for (int redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            Authorize(request, uri);
            Interlocked.Increment(ref requestsSent);
            using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status == 404)
            {
                return (null, null);
            }

            if (status is >= 300 and < 400 && response.Headers.Location != null)
            {
                Uri next = response.Headers.Location.IsAbsoluteUri ? response.Headers.Location : new Uri(uri, response.Headers.Location);
                if (next.Scheme != Uri.UriSchemeHttps && !(next.Scheme == Uri.UriSchemeHttp && uri.Scheme == Uri.UriSchemeHttp))
                {
                    return (null, "redirects to '" + UrlSource.Redact(next.OriginalString) + "', which is not https, so it was not followed");
                }

                if (redirects >= settings.MaxRedirects)
                {
                    return (null, "redirects more than " + settings.MaxRedirects.ToString(CultureInfo.InvariantCulture) + " times (the last to '" + UrlSource.Redact(next.OriginalString) + "')");
                }

                uri = next;
                continue;
            }

            if (status < 200 || status > 299)
            {
                return (null, "answered HTTP " + status.ToString(CultureInfo.InvariantCulture) + " (" + response.ReasonPhrase + ")" + (status is 401 or 403 ? LoginHint() : ""));
            }

            if (response.Content.Headers.ContentLength is long declared && declared > settings.MaxEntryBytes)
            {
                return (null, "sent an entry of " + declared.ToString(CultureInfo.InvariantCulture) + " bytes, more than the " + settings.MaxEntryBytes.ToString(CultureInfo.InvariantCulture) + " an entry may have, so it was not read");
            }

            byte[]? body = await UrlDownloader.ReadAtMostAsync(response.Content, settings.MaxEntryBytes, timeout.Token).ConfigureAwait(false);
            return body == null
                ? (null, "sent more than the " + settings.MaxEntryBytes.ToString(CultureInfo.InvariantCulture) + " bytes an entry may have, so the rest was not read")
                : (body, null);
        }
    }

    private async Task<string?> PutAsync(Uri uri, byte[] entry)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        using var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new ByteArrayContent(entry) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Authorize(request, uri);
        Interlocked.Increment(ref requestsSent);
        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        int status = (int)response.StatusCode;

        // A store is never redirected: the body would have to be sent again to a place the build did not choose.
        return status is >= 200 and <= 299
            ? null
            : "answered HTTP " + status.ToString(CultureInfo.InvariantCulture) + " (" + response.ReasonPhrase + ")" + (status is 401 or 403 ? LoginHint() : "");
    }

    private string LoginHint() => credentials == null
        ? ": the server wants credentials; name the environment variables that hold them with KoalaPicRemoteCacheTokenVariable, or KoalaPicRemoteCacheUserVariable and KoalaPicRemoteCachePasswordVariable"
        : ": the credentials from " + CredentialSource(settings) + " were refused";

    /// <summary>Credentials go only to the base URL's own scheme, host and port: never along a redirect to another server.</summary>
    private void Authorize(HttpRequestMessage request, Uri uri)
    {
        if (credentials != null && Uri.Compare(uri, baseUri, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            request.Headers.Authorization = credentials;
        }
    }

    private static AuthenticationHeaderValue? Credentials(RemoteCacheSettings settings, Func<string, string?> environment)
    {
        string token = Variable(settings.TokenVariable, environment);
        if (token.Length > 0)
        {
            return new AuthenticationHeaderValue("Bearer", token);
        }

        string user = Variable(settings.UserVariable, environment);
        string password = Variable(settings.PasswordVariable, environment);

        // An unset variable sends nothing: a pull request from a fork has no secrets and still reads a public cache.
        return user.Length > 0 || password.Length > 0
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)))
            : null;
    }

    private static string Variable(string name, Func<string, string?> environment) => name.Length > 0 ? (environment(name) ?? "") : "";

    /// <summary>Names the variables, never their values.</summary>
    private static string CredentialSource(RemoteCacheSettings settings) =>
        settings.TokenVariable.Length > 0 ? "$" + settings.TokenVariable : "$" + settings.UserVariable + " and $" + settings.PasswordVariable;

    /// <summary>
    /// Why a downloaded entry may not be used, or null: its checksum over the key, the image and the facts, then a
    /// full decode of the image, which must be the expected format at the recorded size. The checksum catches a
    /// damaged entry; the decode catches an entry whose checksum was made over bytes that are not that image.
    /// </summary>
    private string? Check(byte[] entry, string key, ImageFormat format)
    {
        byte[]? image = CacheEntry.Parse(entry, key, out OutputFacts facts);
        if (image == null)
        {
            return "sent an entry that fails its checksum (truncated, corrupted, or not a KoalaPic cache entry)";
        }

        // libvips first: EntryDecoder touches NetVips, whose first use would load libvips by file name.
        VipsRuntime.EnsureInitialized(parallelism);
        return EntryDecoder.Problem(image, format, facts) is { } problem ? "sent an entry whose image " + problem : null;
    }

    private static string Describe(Exception ex)
    {
        // HttpRequestException's own message is generic; the innermost cause ("Connection refused") says what.
        Exception inner = ex;
        while (inner.InnerException != null)
        {
            inner = inner.InnerException;
        }

        return inner.Message.Trim().TrimEnd('.');
    }

    private static HttpClient CreateClient(RemoteCacheSettings settings)
    {
        // Redirects are followed by hand: each hop's scheme is checked, their number bounded, credentials kept home.
#if NETFRAMEWORK
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
#else
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(settings.TimeoutSeconds) };
#endif
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        string version = typeof(RemoteOutputCache).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0";
        http.DefaultRequestHeaders.UserAgent.ParseAdd("KoalaPic.Build/" + version);
        return http;
    }
}

/// <summary>
/// The local cache first, then a shared one: a shared hit is stored locally too, so the next build of this machine does
/// not ask again; a store goes to both (the shared one decides whether it pushes).
/// </summary>
public sealed class LayeredOutputCache : IOutputCache
{
    private readonly IOutputCache local;
    private readonly IOutputCache shared;

    public LayeredOutputCache(IOutputCache local, IOutputCache shared)
    {
        this.local = local;
        this.shared = shared;
    }

    public CacheHit? Find(string key, ImageFormat format, CancellationToken cancellationToken)
    {
        CacheHit? hit = null;
        try
        {
            hit = local.Find(key, format, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        if (hit != null && CacheEntry.Parse(hit.Entry, key, out _) != null)
        {
            return hit;
        }

        CacheHit? remote = shared.Find(key, format, cancellationToken);
        if (remote != null)
        {
            try
            {
                local.Store(key, format, remote.Entry);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The output is still written from it; the next build asks the remote again.
            }
        }

        return remote;
    }

    public void Store(string key, ImageFormat format, byte[] entry)
    {
        local.Store(key, format, entry);
        shared.Store(key, format, entry);
    }

    public string Describe(string key, ImageFormat format) => local.Describe(key, format);
}
