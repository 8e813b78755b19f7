using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KoalaPic.Build.Engine;

/// <summary>
/// obj/…/koalapic/koalapic.manifest.json: each source image and the variants built from it, for code that renders
/// <c>&lt;picture&gt;</c>/<c>srcset</c> without looking at the files. Field names are stable snake_case.
/// </summary>
public sealed class ImageManifest
{
    public const int CurrentVersion = 1;


    [JsonPropertyName("version")] public int Version { get; set; } = CurrentVersion;

    /// <summary>One per source item that has at least one output, in item order.</summary>
    [JsonPropertyName("images")] public List<ManifestImage> Images { get; set; } = new();

    /// <summary>
    /// Groups successful results by source; a web project's leading <c>wwwroot/</c> is left out of URLs, and
    /// <paramref name="urlBasePath"/> (a Razor class library's <c>_content/MyLib</c>) is put in front of them.
    /// </summary>
    public static ImageManifest Create(string projectDirectory, IEnumerable<ItemResult> results, string urlBasePath = "/")
    {
        string basePath = NormalizeBasePath(urlBasePath);
        var manifest = new ImageManifest();
        var bySource = new Dictionary<string, ManifestImage>(StringComparer.Ordinal);
        foreach (ItemResult result in results.Where(r => r.Succeeded))
        {
            string source = ImageRequest.ProjectRelative(result.Request.SourcePath, projectDirectory);
            if (!bySource.TryGetValue(source, out ManifestImage? image))
            {
                image = new ManifestImage { Source = source, Path = basePath + WebPath(source) };
                bySource.Add(source, image);
                manifest.Images.Add(image);
            }

            image.Variants.Add(new ManifestVariant
            {
                Url = basePath + WebPath(result.Request.OutputPath),
                Format = ImageFormats.Name(result.Request.Options.Format),
                Type = ImageFormats.Of(result.Request.Options.Format).MimeType,
                Width = result.Width,
                Height = result.Height,
                Bytes = result.OutputBytes,
            });

            // One per source: the variant that made it (the item's first, see ImageVariants).
            image.Placeholder ??= result.Placeholder;
        }

        return manifest;
    }

    /// <summary><c>/</c> and empty → empty; <c>_content/MyLib</c> → <c>/_content/MyLib</c>.</summary>
    internal static string NormalizeBasePath(string urlBasePath)
    {
        string trimmed = urlBasePath.Replace('\\', '/').Trim().Trim('/');
        return trimmed.Length == 0 ? "" : "/" + trimmed;
    }

    /// <summary><c>wwwroot/img/photo.png</c> → <c>/img/photo.png</c>; <c>img/photo.png</c> → <c>/img/photo.png</c>.</summary>
    internal static string WebPath(string projectRelative)
    {
        string path = projectRelative.Replace('\\', '/');
        const string WebRoot = "wwwroot/";
        if (path.StartsWith(WebRoot, StringComparison.OrdinalIgnoreCase))
        {
            path = path.Substring(WebRoot.Length);
        }

        return "/" + path;
    }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, ImageManifestJson.Default.ImageManifest);

    /// <summary>Atomically, like the job report.</summary>
    public void Write(string path) => AtomicFile.Write(path, ToJsonBytes());

    public static ImageManifest? Read(string path) => JsonSerializer.Deserialize(File.ReadAllBytes(path), ImageManifestJson.Default.ImageManifest);
}

public sealed class ManifestImage
{
    /// <summary>The source item's path relative to the project, '/'-separated: <c>wwwroot/img/photo.png</c>.</summary>
    [JsonPropertyName("source")] public string Source { get; set; } = "";

    /// <summary>The URL path the source has in a web app (leading <c>wwwroot/</c> removed): <c>/img/photo.png</c>.</summary>
    [JsonPropertyName("path")] public string Path { get; set; } = "";

    /// <summary>Formats in the order of the item's Format, widths ascending within each format.</summary>
    [JsonPropertyName("variants")] public List<ManifestVariant> Variants { get; set; } = new();

    /// <summary>
    /// <c>{ "color": "#8a7f6e", "blur": "data:image/webp;base64,…" }</c> when the item has Placeholder (blur only
    /// for Placeholder="blur"); left out of the JSON when it has none.
    /// </summary>
    [JsonPropertyName("placeholder")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImagePlaceholder? Placeholder { get; set; }
}

public sealed class ManifestVariant
{
    /// <summary>The output's path under the output folder as a URL path, leading <c>wwwroot/</c> removed: <c>/img/photo-480w.webp</c>.</summary>
    [JsonPropertyName("url")] public string Url { get; set; } = "";

    [JsonPropertyName("format")] public string Format { get; set; } = "";

    /// <summary>The format's MIME type, from its descriptor: <c>image/avif</c>; what <c>&lt;source type&gt;</c> says.</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";

    /// <summary>The output's real size in pixels (null only for outputs of KoalaPic versions that did not record it).</summary>
    [JsonPropertyName("width")] public int? Width { get; set; }

    [JsonPropertyName("height")] public int? Height { get; set; }

    [JsonPropertyName("bytes")] public long Bytes { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ImageManifest))]
internal sealed partial class ImageManifestJson : JsonSerializerContext
{
}
