using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace KoalaPic.AspNetCore;

/// <summary>
/// One <c>koalapic/&lt;AssemblyName&gt;.manifest.json</c> as KoalaPic.Build writes it (schema version 1, stable
/// snake_case field names). Unknown fields are ignored, so newer minor additions do not break this reader.
/// </summary>
public sealed class KoalaManifestDocument
{
    /// <summary>Schema version; this reader understands <see cref="KoalaImageManifest.SupportedVersion"/> and below.</summary>
    [JsonPropertyName("version")] public int Version { get; set; }

    /// <summary>One entry per source image.</summary>
    [JsonPropertyName("images")] public List<KoalaManifestImage>? Images { get; set; }
}

/// <summary>A source image and the variants built from it.</summary>
public sealed class KoalaManifestImage
{
    /// <summary>The source item's path relative to its project: <c>wwwroot/img/photo.png</c>.</summary>
    [JsonPropertyName("source")] public string? Source { get; set; }

    /// <summary>
    /// The source's URL path in the app: <c>/img/photo.png</c> (leading <c>wwwroot/</c> removed), or
    /// <c>/_content/MyLib/img/photo.png</c> in a Razor class library. The lookup key.
    /// </summary>
    [JsonPropertyName("path")] public string? Path { get; set; }

    /// <summary>Present only when the item asked for a placeholder.</summary>
    [JsonPropertyName("placeholder")] public KoalaManifestPlaceholder? Placeholder { get; set; }

    /// <summary>Formats in the order the item listed them, widths ascending within a format.</summary>
    [JsonPropertyName("variants")] public List<KoalaManifestVariant>? Variants { get; set; }
}

/// <summary>What to show while the image loads.</summary>
public sealed class KoalaManifestPlaceholder
{
    /// <summary>The image's dominant colour, <c>#rrggbb</c>.</summary>
    [JsonPropertyName("color")] public string? Color { get; set; }

    /// <summary>For <c>Placeholder="blur"</c>: a <c>data:image/…;base64,…</c> URI of a tiny blurred copy (under 1 KB).</summary>
    [JsonPropertyName("blur")] public string? Blur { get; set; }
}

/// <summary>One output file.</summary>
public sealed class KoalaManifestVariant
{
    /// <summary>The output's URL path: <c>/img/photo-480w.avif</c>.</summary>
    [JsonPropertyName("url")] public string? Url { get; set; }

    /// <summary>The output format name: <c>avif</c>, <c>webp</c>, <c>jpg</c>, <c>png</c>, …</summary>
    [JsonPropertyName("format")] public string? Format { get; set; }

    /// <summary>The format's MIME type, <c>image/avif</c>, from KoalaPic.Build's format descriptor; absent in manifests of older versions.</summary>
    [JsonPropertyName("type")] public string? Type { get; set; }

    /// <summary>Width in pixels; null (unknown) only for outputs of old KoalaPic versions.</summary>
    [JsonPropertyName("width")] public int? Width { get; set; }

    /// <summary>Height in pixels; null (unknown) only for outputs of old KoalaPic versions.</summary>
    [JsonPropertyName("height")] public int? Height { get; set; }

    /// <summary>File size in bytes.</summary>
    [JsonPropertyName("bytes")] public long Bytes { get; set; }
}

[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(KoalaManifestDocument))]
internal sealed partial class KoalaManifestJsonContext : JsonSerializerContext
{
}
