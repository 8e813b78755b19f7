using System;
using System.IO;
using System.Threading;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Where encoded outputs are kept by content key (<see cref="ContentKey"/>), so that an image made once is never
/// encoded again: by this project, another project, another branch or (through a shared implementation) another
/// machine. An implementation only moves entries, whole, as <see cref="CacheEntry"/> formats them; the batch verifies
/// every entry it reads by its checksum (<see cref="OutputCacheExtensions.TryRead"/>), so a cache can be wrong or
/// tampered with and never change an output. <see cref="FolderOutputCache"/> (KoalaPicCacheDir) is the first
/// implementation; docs/how-it-works.md ("The cache seam") says what another must do.
/// </summary>
public interface IOutputCache
{
    /// <summary>
    /// The entry stored under <paramref name="key"/> and <paramref name="format"/>, or null when there is none. May throw
    /// or time out: the caller treats any exception (other than its own cancellation) as a miss, and converts.
    /// </summary>
    CacheHit? Find(string key, ImageFormat format, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an entry. An <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> fails the item
    /// with KP2005, naming <see cref="Describe"/>; a cache whose failure should not fail the build (a remote one)
    /// catches its own errors.
    /// </summary>
    void Store(string key, ImageFormat format, byte[] entry);

    /// <summary>The entry's place, for messages: <c>the cache entry '/ci/cache/3f/3f9c….webp' (KoalaPicCacheDir)</c>.</summary>
    string Describe(string key, ImageFormat format);
}

/// <summary>An entry an <see cref="IOutputCache"/> found, whole and not yet verified.</summary>
/// <param name="FromRemote">True when it came from a remote cache (KoalaPicRemoteCache) in this build: the report says <c>from_remote_cache</c>.</param>
public sealed record CacheHit(byte[] Entry, bool FromRemote = false);

/// <summary>The caller's side of <see cref="IOutputCache"/>'s contract: entries are verified, and a failing lookup is a miss.</summary>
public static class OutputCacheExtensions
{
    /// <summary>The image of a verified entry, or null: missing, truncated, corrupt, filed under another key, or the lookup failed.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static byte[]? TryRead(this IOutputCache cache, string key, ImageFormat format, out OutputFacts facts, CancellationToken cancellationToken = default)
    {
        facts = default;
        return cache.TryRead(key, format, out facts, out _, cancellationToken);
    }

    /// <summary>As <see cref="TryRead(IOutputCache, string, ImageFormat, out OutputFacts, CancellationToken)"/>; <paramref name="fromRemote"/> says whether the entry came from a remote cache.</summary>
    public static byte[]? TryRead(this IOutputCache cache, string key, ImageFormat format, out OutputFacts facts, out bool fromRemote, CancellationToken cancellationToken = default)
    {
        facts = default;
        fromRemote = false;
        CacheHit? hit;
        try
        {
            hit = cache.Find(key, format, cancellationToken);
        }
        catch (Exception)
        {
            // A cache is an optimisation: a lookup that fails (a network error, a timeout, a bug) converts the image.
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }

        fromRemote = hit?.FromRemote ?? false;
        return hit == null ? null : CacheEntry.Parse(hit.Entry, key, out facts);
    }

    /// <summary>Stores the image and its facts as one entry with its checksum.</summary>
    public static void Write(this IOutputCache cache, string key, ImageFormat format, byte[] image, OutputFacts facts) =>
        cache.Store(key, format, CacheEntry.Format(key, image, facts));
}

/// <summary>
/// The content-addressed cache folder (KoalaPicCacheDir, shared by the builds of a machine or restored by CI):
/// <c>&lt;folder&gt;/&lt;first 2 hex of key&gt;/&lt;key&gt;.&lt;ext&gt;</c>, each file written atomically.
/// </summary>
public sealed class FolderOutputCache : IOutputCache
{
    public FolderOutputCache(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    public CacheHit? Find(string key, ImageFormat format, CancellationToken cancellationToken) => CacheEntry.ReadFile(PathFor(key, format)) is { } entry ? new CacheHit(entry) : null;

    public void Store(string key, ImageFormat format, byte[] entry) => AtomicFile.Write(PathFor(key, format), entry);

    public string Describe(string key, ImageFormat format) => "the cache entry '" + PathFor(key, format) + "' (KoalaPicCacheDir)";

    public string PathFor(string key, ImageFormat format) => CacheEntry.PathFor(Directory, key, format);
}
