using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace KoalaPic.AspNetCore;

/// <summary>
/// Turns a manifest entry and the attributes the user wrote into a <see cref="PictureMarkup"/>. The one place where the
/// rendering rules live; the <c>&lt;koala-img&gt;</c> tag helper and the <c>&lt;KoalaImg&gt;</c> component only
/// gather their input and write the result.
/// </summary>
/// <remarks>
/// <para>Rules:</para>
/// <list type="bullet">
/// <item>Variants are grouped by format in manifest order (the order of the item's <c>Format</c>). Every format but the
/// fallback becomes a <c>&lt;source type="…"&gt;</c>; the fallback format goes in the <c>&lt;img&gt;</c>.</item>
/// <item>A browser takes the first <c>&lt;source&gt;</c> whose type it decodes, so the sources go lightest first, by
/// the bytes the manifest records for the image: a format's bytes at the widths all the source formats have (all its
/// bytes when they share none); equal weights keep manifest order. A format whose every variant is heavier than the
/// fallback's variant of the same width is left out. When a source format has a variant of unrecorded size (bytes 0),
/// the sources keep manifest order.</item>
/// <item>Fallback format: the first of <c>jpg</c> (or <c>jpeg</c>), <c>png</c>, <c>gif</c> that has variants, in that
/// order of preference; when none has, the last format in manifest order (so <c>avif;webp</c> falls back to webp).</item>
/// <item>srcset: <c>url 480w, url 960w</c>, widths ascending, when a format has several variants of known width; a lone
/// URL when it has one (or when widths are unknown: then its last, largest, variant).</item>
/// <item>sizes: the user's value on every source and the img; when the user gave none and a srcset has w descriptors,
/// <c>100vw</c> (what browsers assume anyway; HTML requires sizes with w descriptors); otherwise left out.</item>
/// <item><c>&lt;img src&gt;</c> is the largest fallback variant; <c>width</c>/<c>height</c> its intrinsic size (left
/// out when unknown). A user <c>width</c> or <c>height</c> wins; given only one of them, the other is computed from the
/// intrinsic aspect ratio.</item>
/// <item><c>loading="lazy"</c> and <c>decoding="async"</c> unless the user gave them; every other user attribute
/// (class, id, title, data-*, fetchpriority, …) goes to the img in the order given; a user <c>srcset</c> or <c>src</c>
/// is ignored (the manifest's wins).</item>
/// <item>Placeholder: <c>style="background-color:…"</c> from the colour, plus for a blur, or for a ThumbHash its image
/// decoded at build time, <c>background-image:url(data:…);background-size:cover;background-position:center;background-repeat:no-repeat</c>;
/// the user's style comes after it. A ThumbHash is also given raw as <c>data-thumbhash="…"</c> (base64), for pages
/// that decode it themselves, unless the user gave that attribute. No script, no event handlers (CSP-safe).</item>
/// <item>Art direction (<see cref="BuildMediaSources"/>): each <c>&lt;koala-source&gt;</c> image gives a
/// <c>&lt;source media&gt;</c> per format, ordered as above and ending with its fallback format, with its largest
/// variant's width/height; these sets go ahead of the default's sources, in the order written.</item>
/// <item>Every URL that starts with <c>/</c> is prefixed with the request's path base (apps under a virtual
/// directory); absolute URLs are left alone.</item>
/// </list>
/// </remarks>
public static class PictureMarkupBuilder
{
    private static readonly string[] FallbackPreference = { "jpg", "png", "gif" };

    private static readonly Dictionary<string, string> MimeTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["avif"] = "image/avif",
        ["webp"] = "image/webp",
        ["jpg"] = "image/jpeg",
        ["jpeg"] = "image/jpeg",
        ["png"] = "image/png",
        ["gif"] = "image/gif",
        ["tiff"] = "image/tiff",
        ["tif"] = "image/tiff",
        ["heic"] = "image/heic",
        ["heif"] = "image/heif",
        ["jxl"] = "image/jxl",
        ["svg"] = "image/svg+xml",
        ["bmp"] = "image/bmp",
        ["ico"] = "image/x-icon",
    };

    private static readonly Regex SafeColor = new("^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$", RegexOptions.CultureInvariant);

    /// <summary>The attribute that carries a ThumbHash, base64, for pages that decode it in the browser.</summary>
    public const string ThumbHashAttribute = "data-thumbhash";

    /// <summary>Base64 of at most 96 bytes (a ThumbHash has 5 to 25).</summary>
    private static readonly Regex SafeThumbHash = new("^[A-Za-z0-9+/]{4,128}={0,2}$", RegexOptions.CultureInvariant);

    private static readonly Regex SafeDataUri = new("^data:image/[a-z0-9.+-]+(?:;[a-z0-9=.+-]+)*,[A-Za-z0-9+/=%._-]*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    private static readonly Regex SafeAttributeName = new("^[^\\s\"'>/=\\x00-\\x1f]+$", RegexOptions.CultureInvariant);

    /// <summary>
    /// The <c>&lt;picture&gt;</c> for <paramref name="image"/>; a plain <c>&lt;img&gt;</c> of its path when it has no
    /// variants.
    /// </summary>
    /// <param name="image">The manifest entry.</param>
    /// <param name="pathBase">The request's path base (<c>/myapp</c>), or null/empty at the site root.</param>
    /// <param name="attributes">The attributes the user wrote (alt, sizes, loading, class, …) in their order; null values are minimized attributes.</param>
    public static PictureMarkup Build(KoalaManifestImage image, string? pathBase, IEnumerable<MarkupAttribute> attributes)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(attributes);
        string prefix = NormalizePathBase(pathBase);
        var user = new UserAttributes(attributes);

        List<FormatGroup> groups = Group(image.Variants);
        if (groups.Count == 0)
        {
            return BuildPlain(image.Path ?? "", pathBase, user.All);
        }

        FormatGroup fallback = FallbackGroup(groups);
        var sources = new List<PictureSource>();
        foreach (FormatGroup group in LightestFirst(groups, fallback))
        {
            (string srcset, bool described) = Srcset(group, prefix);
            sources.Add(new PictureSource(group.Type ?? MimeType(group.Format), srcset, SizesFor(described, user.Sizes)));
        }

        KoalaManifestVariant largest = Largest(fallback);
        var img = new List<MarkupAttribute> { new("src", Url(prefix, largest.Url!)) };
        if (fallback.Variants.Count > 1)
        {
            (string srcset, bool described) = Srcset(fallback, prefix);
            if (described)
            {
                img.Add(new("srcset", srcset));
            }

            AddIfNotNull(img, "sizes", SizesFor(described, user.Sizes));
        }
        else
        {
            AddIfNotNull(img, "sizes", user.Sizes);
        }

        (string? width, string? height) = Dimensions(user, largest.Width, largest.Height);
        AddIfNotNull(img, "width", width);
        AddIfNotNull(img, "height", height);
        AddCommon(img, user, PlaceholderStyle(image.Placeholder));
        if (image.Placeholder?.ThumbHash?.Trim() is { } thumbHash && SafeThumbHash.IsMatch(thumbHash)
            && !user.All.Exists(a => string.Equals(a.Name, ThumbHashAttribute, StringComparison.OrdinalIgnoreCase)))
        {
            img.Add(new(ThumbHashAttribute, thumbHash));
        }
        return new PictureMarkup(true, sources, img);
    }

    /// <summary>
    /// A plain <c>&lt;img&gt;</c> of <paramref name="src"/> (for a src without manifest entry): <c>~/</c> and app-relative
    /// paths resolved against <paramref name="pathBase"/>, the user's attributes, lazy loading and async decoding.
    /// </summary>
    public static PictureMarkup BuildPlain(string src, string? pathBase, IEnumerable<MarkupAttribute> attributes)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(attributes);
        var user = new UserAttributes(attributes);
        var img = new List<MarkupAttribute> { new("src", ResolveUrl(src, pathBase)) };
        AddIfNotNull(img, "sizes", user.Sizes);
        AddIfNotNull(img, "width", user.Width);
        AddIfNotNull(img, "height", user.Height);
        AddCommon(img, user, null);
        return new PictureMarkup(false, Array.Empty<PictureSource>(), img);
    }

    /// <summary>
    /// The <c>&lt;source media="…"&gt;</c> set of an art-directed image (<c>&lt;koala-source&gt;</c>,
    /// <c>&lt;KoalaSource&gt;</c>), which goes ahead of the default image's sources: one source per format, ordered as
    /// the default's (lightest first, formats heavier than this image's fallback left out), then the fallback format
    /// itself (the <c>&lt;img&gt;</c> belongs to the default image). Each carries <paramref name="media"/>, its own
    /// srcset and sizes, and its largest variant's width/height (when known) so the box keeps this image's aspect ratio.
    /// An entry without variants gives one source of its path.
    /// </summary>
    /// <param name="media">The media query: <c>(max-width: 600px)</c>.</param>
    /// <param name="image">The art-directed image's manifest entry.</param>
    /// <param name="pathBase">The request's path base, as for <see cref="Build"/>.</param>
    /// <param name="sizes">The sizes for these sources (the koala-source's, else the parent's); null gives <c>100vw</c> beside w descriptors.</param>
    public static IReadOnlyList<PictureSource> BuildMediaSources(string media, KoalaManifestImage image, string? pathBase, string? sizes)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(image);
        string prefix = NormalizePathBase(pathBase);
        List<FormatGroup> groups = Group(image.Variants);
        if (groups.Count == 0)
        {
            return new[] { BuildPlainMediaSource(media, image.Path ?? "", pathBase, sizes) };
        }

        FormatGroup fallback = FallbackGroup(groups);
        var sources = new List<PictureSource>();
        foreach (FormatGroup group in LightestFirst(groups, fallback).Append(fallback))
        {
            (string srcset, bool described) = Srcset(group, prefix);
            KoalaManifestVariant largest = Largest(group);
            bool known = largest.Width > 0 && largest.Height > 0;
            sources.Add(new PictureSource(
                group.Type ?? MimeType(group.Format), srcset, SizesFor(described, sizes), media, known ? largest.Width : null, known ? largest.Height : null));
        }

        return sources;
    }

    /// <summary>
    /// For an art-directed src without manifest entry (when missing entries do not throw): <c>&lt;source media="…"
    /// srcset="/img/hero-portrait.jpg"&gt;</c> of the original file, so the page keeps its art direction.
    /// </summary>
    public static PictureSource BuildPlainMediaSource(string media, string src, string? pathBase, string? sizes)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(src);
        return new PictureSource(null, SrcsetUrl(ResolveUrl(src, pathBase)), sizes, media);
    }

    /// <summary>
    /// <paramref name="markup"/> with <paramref name="mediaSources"/> ahead of its sources (a lone <c>&lt;img&gt;</c>
    /// becomes a <c>&lt;picture&gt;</c>); <paramref name="markup"/> itself when there are none.
    /// </summary>
    public static PictureMarkup WithMediaSources(PictureMarkup markup, IReadOnlyList<PictureSource> mediaSources)
    {
        ArgumentNullException.ThrowIfNull(markup);
        ArgumentNullException.ThrowIfNull(mediaSources);
        return mediaSources.Count == 0 ? markup : new PictureMarkup(true, mediaSources.Concat(markup.Sources).ToList(), markup.ImgAttributes);
    }

    /// <summary>For manifests without <c>type</c> (older KoalaPic.Build): the MIME type for a manifest format name: <c>avif</c> → <c>image/avif</c>, <c>jpg</c> → <c>image/jpeg</c>; an unknown <c>xyz</c> → <c>image/xyz</c>.</summary>
    public static string MimeType(string format)
    {
        ArgumentNullException.ThrowIfNull(format);
        return MimeTypes.TryGetValue(format, out string? type) ? type : "image/" + format.ToLowerInvariant();
    }

    /// <summary>
    /// The format that goes in the <c>&lt;img&gt;</c>, given the formats in manifest order: the first of jpg (jpeg), png,
    /// gif present, else the last one. Null for no formats.
    /// </summary>
    public static string? FallbackFormat(IEnumerable<string> formatsInOrder)
    {
        ArgumentNullException.ThrowIfNull(formatsInOrder);
        List<string> formats = formatsInOrder.ToList();
        foreach (string preferred in FallbackPreference)
        {
            string? match = formats.FirstOrDefault(f => string.Equals(CanonicalFormat(f), preferred, StringComparison.Ordinal));
            if (match != null)
            {
                return match;
            }
        }

        return formats.Count == 0 ? null : formats[^1];
    }

    /// <summary>
    /// <c>~/img/a.png</c>, <c>img/a.png</c> and <c>/img/a.png</c> → <c>{pathBase}/img/a.png</c> (query and fragment kept);
    /// absolute URLs (<c>https:</c>, <c>//host</c>, <c>data:</c>) unchanged.
    /// </summary>
    public static string ResolveUrl(string src, string? pathBase)
    {
        ArgumentNullException.ThrowIfNull(src);
        string url = src.Trim();
        if (url.StartsWith("//", StringComparison.Ordinal) || HasScheme(url))
        {
            return url;
        }

        if (url.StartsWith("~/", StringComparison.Ordinal))
        {
            url = url.Substring(1);
        }
        else if (!url.StartsWith('/'))
        {
            url = "/" + url;
        }

        return NormalizePathBase(pathBase) + url;
    }

    /// <summary><c>null</c>, <c>""</c>, <c>"/"</c> → <c>""</c>; <c>"myapp/"</c> → <c>"/myapp"</c>.</summary>
    internal static string NormalizePathBase(string? pathBase)
    {
        string trimmed = (pathBase ?? "").Trim().TrimEnd('/');
        if (trimmed.Length == 0)
        {
            return "";
        }

        return trimmed.StartsWith('/') ? trimmed : "/" + trimmed;
    }

    private static bool HasScheme(string url)
    {
        int colon = url.IndexOf(':', StringComparison.Ordinal);
        int slash = url.IndexOf('/', StringComparison.Ordinal);
        return colon > 0 && (slash < 0 || colon < slash);
    }

    private static string CanonicalFormat(string format)
    {
        string lower = format.Trim().ToLowerInvariant();
        return lower == "jpeg" ? "jpg" : lower;
    }

    private static List<FormatGroup> Group(IEnumerable<KoalaManifestVariant?>? variants)
    {
        var groups = new List<FormatGroup>();
        foreach (KoalaManifestVariant? variant in variants ?? Enumerable.Empty<KoalaManifestVariant?>())
        {
            if (variant == null || string.IsNullOrWhiteSpace(variant.Url))
            {
                continue;
            }

            string format = string.IsNullOrWhiteSpace(variant.Format) ? FormatFromUrl(variant.Url) : variant.Format.Trim();
            string key = CanonicalFormat(format);
            FormatGroup? group = groups.FirstOrDefault(g => g.Key == key);
            if (group == null)
            {
                group = new FormatGroup(key, format);
                groups.Add(group);
            }

            group.Variants.Add(variant);
            group.Type ??= string.IsNullOrWhiteSpace(variant.Type) ? null : variant.Type.Trim();
        }

        foreach (FormatGroup group in groups)
        {
            group.HasWidths = group.Variants.All(v => v.Width > 0);
            if (group.HasWidths)
            {
                // Stable: equal widths keep manifest order.
                List<KoalaManifestVariant> sorted = group.Variants.OrderBy(v => v.Width!.Value).ToList();
                group.Variants.Clear();
                group.Variants.AddRange(sorted);
            }
        }

        return groups;
    }

    private static string FormatFromUrl(string url)
    {
        string path = url.Split('?', '#')[0];
        int dot = path.LastIndexOf('.');
        return dot >= 0 && dot > path.LastIndexOf('/') ? path.Substring(dot + 1) : "";
    }

    private static FormatGroup FallbackGroup(List<FormatGroup> groups)
    {
        string fallback = FallbackFormat(groups.Select(g => g.Key))!;
        return groups.First(g => g.Key == fallback);
    }

    private static KoalaManifestVariant Largest(FormatGroup group) => group.Variants[^1];

    /// <summary>The formats that become &lt;source&gt;s, in the order a browser should prefer them (see the remarks).</summary>
    private static List<FormatGroup> LightestFirst(List<FormatGroup> groups, FormatGroup fallback)
    {
        List<FormatGroup> sources = groups.Where(g => g != fallback && !HeavierThanFallbackAtEveryWidth(g, fallback)).ToList();
        if (sources.Any(g => g.Variants.Any(v => v.Bytes <= 0)))
        {
            return sources;
        }

        HashSet<int>? shared = null;
        foreach (FormatGroup group in sources)
        {
            IEnumerable<int> widths = group.Variants.Where(v => v.Width > 0).Select(v => v.Width!.Value);
            if (shared == null)
            {
                shared = new HashSet<int>(widths);
            }
            else
            {
                shared.IntersectWith(widths);
            }
        }

        // OrderBy is stable: equal weights keep manifest order.
        return sources
            .OrderBy(g => shared is { Count: > 0 } ? g.Variants.Where(v => v.Width is int w && shared.Contains(w)).Sum(v => v.Bytes) : g.Variants.Sum(v => v.Bytes))
            .ToList();
    }

    /// <summary>Every variant of <paramref name="group"/> has a fallback variant of its width, with fewer bytes.</summary>
    private static bool HeavierThanFallbackAtEveryWidth(FormatGroup group, FormatGroup fallback) =>
        group.Variants.All(v =>
            v.Width > 0
            && fallback.Variants.FirstOrDefault(f => f.Width == v.Width) is { Bytes: > 0 } same
            && v.Bytes > same.Bytes);

    private static (string Srcset, bool Described) Srcset(FormatGroup group, string prefix)
    {
        if (group.Variants.Count == 1 || !group.HasWidths)
        {
            return (SrcsetUrl(Url(prefix, Largest(group).Url!)), false);
        }

        var srcset = new StringBuilder();
        var seen = new HashSet<int>();
        foreach (KoalaManifestVariant variant in group.Variants)
        {
            if (!seen.Add(variant.Width!.Value))
            {
                continue; // Two candidates with one descriptor make the whole srcset invalid.
            }

            if (srcset.Length > 0)
            {
                srcset.Append(", ");
            }

            srcset.Append(SrcsetUrl(Url(prefix, variant.Url!))).Append(' ')
                .Append(variant.Width.Value.ToString(CultureInfo.InvariantCulture)).Append('w');
        }

        return (srcset.ToString(), true);
    }

    private static string? SizesFor(bool described, string? userSizes) => userSizes ?? (described ? "100vw" : null);

    private static string Url(string prefix, string url)
    {
        string trimmed = url.Trim();
        return trimmed.StartsWith('/') && !trimmed.StartsWith("//", StringComparison.Ordinal) ? prefix + trimmed : trimmed;
    }

    /// <summary>A space or comma would split a srcset candidate.</summary>
    private static string SrcsetUrl(string url) => url.Replace(" ", "%20", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    private static (string? Width, string? Height) Dimensions(UserAttributes user, int? intrinsicWidth, int? intrinsicHeight)
    {
        bool known = intrinsicWidth > 0 && intrinsicHeight > 0;
        if (user.Width == null && user.Height == null)
        {
            return known ? (Invariant(intrinsicWidth!.Value), Invariant(intrinsicHeight!.Value)) : (null, null);
        }

        if (user.Width != null && user.Height != null)
        {
            return (user.Width, user.Height);
        }

        // One given: keep the aspect ratio, so the browser still reserves the right box.
        if (known && user.Width != null && int.TryParse(user.Width, NumberStyles.None, CultureInfo.InvariantCulture, out int width))
        {
            return (user.Width, Invariant((int)Math.Round((double)width * intrinsicHeight!.Value / intrinsicWidth!.Value, MidpointRounding.AwayFromZero)));
        }

        if (known && user.Height != null && int.TryParse(user.Height, NumberStyles.None, CultureInfo.InvariantCulture, out int height))
        {
            return (Invariant((int)Math.Round((double)height * intrinsicWidth!.Value / intrinsicHeight!.Value, MidpointRounding.AwayFromZero)), user.Height);
        }

        return (user.Width, user.Height);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? PlaceholderStyle(KoalaManifestPlaceholder? placeholder)
    {
        if (placeholder == null)
        {
            return null;
        }

        var style = new StringBuilder();
        if (placeholder.Color != null && SafeColor.IsMatch(placeholder.Color.Trim()))
        {
            style.Append("background-color:").Append(placeholder.Color.Trim());
        }

        string? image = new[] { placeholder.Blur, placeholder.ThumbHashDataUri }.Select(uri => uri?.Trim()).FirstOrDefault(uri => uri != null && SafeDataUri.IsMatch(uri));
        if (image != null)
        {
            if (style.Length > 0)
            {
                style.Append(';');
            }

            style.Append("background-image:url(").Append(image)
                .Append(");background-size:cover;background-position:center;background-repeat:no-repeat");
        }

        return style.Length == 0 ? null : style.ToString();
    }

    private static void AddCommon(List<MarkupAttribute> img, UserAttributes user, string? placeholderStyle)
    {
        AddIfNotNull(img, "alt", user.Alt);
        img.Add(new("loading", user.Loading ?? "lazy"));
        img.Add(new("decoding", user.Decoding ?? "async"));
        img.AddRange(user.Others);
        string? style = placeholderStyle;
        string? userStyle = user.Style?.Trim().TrimStart(';').Trim();
        if (!string.IsNullOrEmpty(userStyle))
        {
            style = style == null ? userStyle : style + ";" + userStyle;
        }

        AddIfNotNull(img, "style", style);
    }

    private static void AddIfNotNull(List<MarkupAttribute> attributes, string name, string? value)
    {
        if (value != null)
        {
            attributes.Add(new(name, value));
        }
    }

    private sealed class FormatGroup
    {
        public FormatGroup(string key, string format)
        {
            Key = key;
            Format = format;
        }

        public string Key { get; }

        public string Format { get; }

        public List<KoalaManifestVariant> Variants { get; } = new();

        /// <summary>The MIME type the manifest gives (KoalaPic.Build's descriptor), or null for older manifests.</summary>
        public string? Type { get; set; }

        public bool HasWidths { get; set; }
    }

    /// <summary>The user's attributes, the ones with a rule pulled out; the first of a repeated name wins.</summary>
    private sealed class UserAttributes
    {
        public UserAttributes(IEnumerable<MarkupAttribute> attributes)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (MarkupAttribute attribute in attributes)
            {
                if (string.IsNullOrEmpty(attribute.Name) || !SafeAttributeName.IsMatch(attribute.Name) || !seen.Add(attribute.Name))
                {
                    continue;
                }

                All.Add(attribute);
                switch (attribute.Name.ToLowerInvariant())
                {
                    case "src":
                    case "srcset":
                        break;
                    case "sizes": Sizes = attribute.Value; break;
                    case "width": Width = attribute.Value; break;
                    case "height": Height = attribute.Value; break;
                    case "alt": Alt = attribute.Value ?? ""; break;
                    case "loading": Loading = attribute.Value; break;
                    case "decoding": Decoding = attribute.Value; break;
                    case "style": Style = attribute.Value; break;
                    default: Others.Add(attribute); break;
                }
            }
        }

        public List<MarkupAttribute> All { get; } = new();

        public List<MarkupAttribute> Others { get; } = new();

        public string? Sizes { get; }

        public string? Width { get; }

        public string? Height { get; }

        public string? Alt { get; }

        public string? Loading { get; }

        public string? Decoding { get; }

        public string? Style { get; }
    }
}
