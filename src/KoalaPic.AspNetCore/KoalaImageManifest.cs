using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace KoalaPic.AspNetCore;

/// <summary>
/// Every <c>*.manifest.json</c> in the manifest folder (by default <c>bin/…/koalapic/</c>, i.e.
/// <c>Path.Combine(AppContext.BaseDirectory, "koalapic")</c>: the app's own manifest and those of the Razor class
/// libraries it references as projects), then every <c>_content/*/_koalapic/manifest.json</c> in the app's web root
/// (<see cref="IWebHostEnvironment.WebRootFileProvider"/>: the manifests of Razor class libraries installed as NuGet
/// packages, served as static web assets), indexed by each image's <c>path</c> (case-insensitive ordinal; an entry
/// from the manifest folder wins over a served one). Register it with
/// <see cref="KoalaPicServiceCollectionExtensions.AddKoalaPic"/>; without that, <see cref="Shared"/> (or, when the
/// request's services hold an <see cref="IWebHostEnvironment"/>, <see cref="ForEnvironment"/>) is used.
/// </summary>
/// <remarks>
/// The files are read once, on first use, and never again: the manifest only changes when the project is rebuilt,
/// and a rebuild restarts the app (so does <c>dotnet watch</c>), so there is no file watcher.
/// </remarks>
public sealed class KoalaImageManifest
{
    /// <summary>The highest manifest schema version this reader understands.</summary>
    public const int SupportedVersion = 1;

    /// <summary>The file pattern looked for in <see cref="Directory"/>.</summary>
    public const string FilePattern = "*.manifest.json";

    /// <summary>Where a Razor class library serves its manifest, under its <c>_content/&lt;Library&gt;/</c> base path.</summary>
    public const string ServedManifestPath = "_koalapic/manifest.json";

    private static readonly ConditionalWeakTable<IWebHostEnvironment, KoalaImageManifest> ByEnvironment = new();

    private static readonly Lazy<KoalaImageManifest> SharedInstance = new(() => new KoalaImageManifest(new KoalaPicOptions()), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Lazy<Loaded> loaded;

    private readonly Func<IFileProvider?> webRoot;

    /// <summary>Reads the folder named by <paramref name="options"/> (on first use, not here); no web root.</summary>
    public KoalaImageManifest(KoalaPicOptions options)
        : this(options, webRootFileProvider: null)
    {
    }

    /// <summary>
    /// Reads the folder named by <paramref name="options"/>, then the <c>_content/*/_koalapic/manifest.json</c> files of
    /// <paramref name="webRootFileProvider"/> (on first use, not here). Null: the folder only.
    /// </summary>
    public KoalaImageManifest(KoalaPicOptions options, IFileProvider? webRootFileProvider)
        : this(options, () => webRootFileProvider)
    {
    }

    /// <summary>For dependency injection (no web root; <c>AddKoalaPic()</c> registers the one with the app's web root).</summary>
    public KoalaImageManifest(IOptions<KoalaPicOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value)
    {
    }

    /// <summary>The web root provider is asked for on first use: in Development the host adds the static web assets of referenced projects and packages to it while it starts.</summary>
    internal KoalaImageManifest(KoalaPicOptions options, Func<IFileProvider?> webRoot)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory = ResolveDirectory(options.ManifestDirectory);
        this.webRoot = webRoot;
        loaded = new Lazy<Loaded>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// The instance used when <c>AddKoalaPic()</c> was not called: default options, created on first use and shared
    /// by the whole process.
    /// </summary>
    public static KoalaImageManifest Shared => SharedInstance.Value;

    /// <summary>
    /// The instance used when <c>AddKoalaPic()</c> was not called but the services hold an
    /// <see cref="IWebHostEnvironment"/>: default options plus that environment's web root, one per environment.
    /// </summary>
    public static KoalaImageManifest ForEnvironment(IWebHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return ByEnvironment.GetValue(environment, e => new KoalaImageManifest(new KoalaPicOptions(), () => e.WebRootFileProvider));
    }

    /// <summary>The absolute folder the manifests are read from.</summary>
    public string Directory { get; }

    /// <summary>
    /// The manifest files read, in the order they take precedence: full paths of the folder's files, then the served
    /// ones as <c>/_content/&lt;Library&gt;/_koalapic/manifest.json</c>. Empty when none were found.
    /// </summary>
    public IReadOnlyList<string> Files => loaded.Value.Files;

    /// <summary>Every image path known, sorted.</summary>
    public IReadOnlyList<string> Paths => loaded.Value.SortedPaths;

    /// <summary>
    /// The entry for an app-relative source path: <c>~/img/photo.png</c>, <c>/img/photo.png</c> and <c>img/photo.png</c>
    /// all find the image whose manifest <c>path</c> is <c>/img/photo.png</c> (case-insensitive; a query string or
    /// fragment is ignored).
    /// </summary>
    /// <exception cref="InvalidOperationException">A manifest file is malformed (the message names it).</exception>
    public bool TryGetImage(string? src, out KoalaManifestImage image)
    {
        string? key = NormalizePath(src);
        if (key != null && loaded.Value.ByPath.TryGetValue(key, out KoalaManifestImage? found))
        {
            image = found;
            return true;
        }

        image = null!;
        return false;
    }

    /// <summary>
    /// The lookup key for a <c>src</c>: <c>~/img/photo.png</c>, <c>img/photo.png</c>, <c>/img/photo.png</c> →
    /// <c>/img/photo.png</c>; backslashes become slashes; a query string or fragment is dropped. Null for an empty
    /// <c>src</c> or an absolute URL (<c>https://…</c>, <c>//host/…</c>, <c>data:…</c>).
    /// </summary>
    public static string? NormalizePath(string? src)
    {
        if (string.IsNullOrWhiteSpace(src))
        {
            return null;
        }

        string path = src.Trim();
        int cut = path.IndexOfAny(new[] { '?', '#' });
        if (cut >= 0)
        {
            path = path.Substring(0, cut);
        }

        path = path.Replace('\\', '/');
        if (path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = path.Substring(1);
        }
        else if (path.StartsWith("//", StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal))
        {
            return null;
        }

        if (!path.StartsWith('/'))
        {
            path = "/" + path;
        }

        return path.Length > 1 ? path : null;
    }

    /// <summary>The text for a missing entry: what was looked up, which manifests were read, what they hold, and the likely fix.</summary>
    internal string DescribeMissing(string? src)
    {
        Loaded state = loaded.Value;
        var message = new StringBuilder();
        message.Append("KoalaPic: no image manifest entry for src \"").Append(src).Append('"');
        string? key = NormalizePath(src);
        if (key != null && !string.Equals(key, src, StringComparison.Ordinal))
        {
            message.Append(" (looked up as \"").Append(key).Append("\")");
        }

        message.Append(". ");
        if (state.Files.Count == 0)
        {
            message.Append("No image manifest was found: ").Append(Directory).Append(" has no ").Append(FilePattern)
                .Append(state.WebRootRead ? " file and the web root has no _content/*/" + ServedManifestPath : "")
                .Append(" file. Reference the KoalaPic.Build package in the project that holds the image, add a KoalaImage item for the file")
                .Append(" (for example <KoalaImage Include=\"wwwroot").Append(key ?? "/img/photo.png")
                .Append("\" Format=\"avif;webp;jpg\" Widths=\"480;960\" />) and build the project")
                .Append(" (in a project that is not on the Web or Razor SDK, also set KoalaPicCopyManifestToOutput=true).");
        }
        else
        {
            message.Append("Manifests read from ").Append(Directory).Append(": ")
                .Append(string.Join(", ", state.Files.Select(f => (f.StartsWith("/_content/", StringComparison.Ordinal) ? f : Path.GetFileName(f)) + " (" + state.CountByFile[f] + " images)"))).Append(". ");
            const int Shown = 30;
            if (state.SortedPaths.Count == 0)
            {
                message.Append("They hold no images. ");
            }
            else
            {
                message.Append("Paths available: ").Append(string.Join(", ", state.SortedPaths.Take(Shown)));
                if (state.SortedPaths.Count > Shown)
                {
                    message.Append(", … (").Append(state.SortedPaths.Count - Shown).Append(" more)");
                }

                message.Append(". ");
            }

            message.Append("If the path is right, add a KoalaImage item for the file (for example <KoalaImage Include=\"wwwroot")
                .Append(key ?? "/img/photo.png").Append("\" Format=\"avif;webp;jpg\" Widths=\"480;960\" />) and build the project; ")
                .Append("an image in a Razor class library is addressed as ~/_content/<LibraryName>/….");
        }

        message.Append(" To render a plain <img> instead of throwing, set KoalaPicOptions.ThrowOnMissing = false (the default outside Development).");
        return message.ToString();
    }

    internal static string ResolveDirectory(string? configured)
    {
        string baseDirectory = AppContext.BaseDirectory;
        string directory = string.IsNullOrWhiteSpace(configured) ? Path.Combine(baseDirectory, "koalapic") : Path.Combine(baseDirectory, configured);
        return Path.GetFullPath(directory);
    }

    private Loaded Load()
    {
        var state = new Loaded();
        LoadFolder(state);
        LoadServed(state);
        state.SortedPaths = state.ByPath.Keys.OrderBy(p => p, StringComparer.OrdinalIgnoreCase).ToArray();
        return state;
    }

    private void LoadFolder(Loaded state)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return;
        }

        // The freshest manifest first: a stale one left in bin/ by a renamed assembly must not shadow the current build.
        IEnumerable<FileInfo> files = new DirectoryInfo(Directory).EnumerateFiles(FilePattern)
            .OrderByDescending(f => f.LastWriteTimeUtc)
            .ThenBy(f => f.Name, StringComparer.Ordinal);
        foreach (FileInfo file in files)
        {
            Add(state, file.FullName, file.FullName, ReadFile(file.FullName, File.ReadAllBytes(file.FullName)));
        }
    }

    /// <summary>
    /// The manifests Razor class libraries serve as static web assets (a library installed as a NuGet package has no
    /// manifest in bin/): <c>_content/*/_koalapic/manifest.json</c> of the web root, in library name order, after the
    /// folder's, so an entry the folder already has keeps the folder's.
    /// </summary>
    private void LoadServed(Loaded state)
    {
        IFileProvider? provider = webRoot();
        if (provider == null)
        {
            return;
        }

        state.WebRootRead = true;
        IDirectoryContents libraries = provider.GetDirectoryContents("_content");
        if (!libraries.Exists)
        {
            return;
        }

        foreach (string library in libraries.Where(d => d.IsDirectory).Select(d => d.Name).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal))
        {
            string served = "/_content/" + library + "/" + ServedManifestPath;
            IFileInfo file = provider.GetFileInfo(served);
            if (!file.Exists || file.IsDirectory)
            {
                continue;
            }

            string shown = file.PhysicalPath == null ? "web root " + served : file.PhysicalPath + " (served at " + served + ")";
            byte[] bytes;
            using (Stream stream = file.CreateReadStream())
            using (var buffer = new MemoryStream())
            {
                stream.CopyTo(buffer);
                bytes = buffer.ToArray();
            }

            Add(state, served, shown, ReadFile(shown, bytes));
        }
    }

    private static void Add(Loaded state, string name, string shown, KoalaManifestDocument document)
    {
        state.Files.Add(name);
        int count = 0;
        foreach (KoalaManifestImage? image in document.Images ?? new List<KoalaManifestImage>())
        {
            string? key = image == null ? null : NormalizePath(image.Path);
            if (key == null)
            {
                throw Malformed(shown, "an image has no \"path\"", null);
            }

            count++;
            state.ByPath.TryAdd(key, image!);
        }

        state.CountByFile[name] = count;
    }

    private static KoalaManifestDocument ReadFile(string path, byte[] bytes)
    {
        KoalaManifestDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(bytes, KoalaManifestJsonContext.Default.KoalaManifestDocument);
        }
        catch (JsonException e)
        {
            throw Malformed(path, e.Message, e);
        }

        if (document == null)
        {
            throw Malformed(path, "the file holds JSON null", null);
        }

        if (document.Version < 1 || document.Version > SupportedVersion)
        {
            throw Malformed(path, $"schema version {document.Version} is not supported (this KoalaPic.AspNetCore reads version 1 to {SupportedVersion}; update the KoalaPic.AspNetCore package to match KoalaPic.Build)", null);
        }

        return document;
    }

    private static InvalidOperationException Malformed(string path, string why, Exception? inner) =>
        new($"KoalaPic: the image manifest {path} is malformed: {why}. Rebuild the project that wrote it.", inner);

    private sealed class Loaded
    {
        public List<string> Files { get; } = new();

        public Dictionary<string, int> CountByFile { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, KoalaManifestImage> ByPath { get; } = new(StringComparer.OrdinalIgnoreCase);

        public IReadOnlyList<string> SortedPaths { get; set; } = Array.Empty<string>();

        public bool WebRootRead { get; set; }
    }
}
