using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Whether a metadata's value is part of an output's cache key (<see cref="ConversionOptions.CacheKeyText"/>, which
/// <see cref="ContentKey"/> hashes). Every row of <see cref="ItemMetadata.All"/> must make this decision: a value left
/// out of the key by mistake lets the cache serve an output made with other settings.
/// </summary>
public sealed class CacheKeyDecision
{
    private CacheKeyDecision(string? key, Func<ConversionOptions, string>? value, string? reason)
    {
        Key = key;
        Value = value;
        Reason = reason;
    }

    /// <summary>The name of the value in the key text (<c>quality</c> in <c>quality=80</c>); null when not in the key.</summary>
    public string? Key { get; }

    /// <summary>The value's stable text in the key, read from the options it parsed into.</summary>
    public Func<ConversionOptions, string>? Value { get; }

    /// <summary>Why the value does not change the output's bytes; null when it is in the key.</summary>
    public string? Reason { get; }

    public bool InKey => Key != null;

    /// <summary>In the key as <c><paramref name="key"/>=<paramref name="value"/>(options)</c>. Keys are stable: renaming one converts every image again.</summary>
    public static CacheKeyDecision Part(string key, Func<ConversionOptions, string> value) => new(key, value, null);

    /// <summary>Not in the key, because <paramref name="reason"/>.</summary>
    public static CacheKeyDecision NotPart(string reason) =>
        new(null, null, string.IsNullOrWhiteSpace(reason) ? throw new ArgumentException("Say why the value is not in the cache key.", nameof(reason)) : reason);
}

/// <summary>Reads one metadata value; false when the text is not a valid value.</summary>
public delegate bool MetadataParse<T>(string text, out T value);

/// <summary>
/// One row of the item metadata table: a KoalaImage metadata's name, its KP code and accepted values, and its
/// cache-key decision. <see cref="All"/> is the table; <see cref="ImageRequest.MetadataNames"/>, the cache key text
/// and the metadata a host hands over (<see cref="JobItem.From"/>) are derived from it. Adding a metadata means adding
/// one row here and reading it in <see cref="ImageRequest.TryCreate"/> (or <see cref="ImageVariants"/>).
/// </summary>
public class ItemMetadata
{
    private protected ItemMetadata(string name, string? code, string accepted, CacheKeyDecision cacheKey, IReadOnlyList<string>? choices)
    {
        Name = name;
        Code = code;
        Accepted = accepted;
        CacheKey = cacheKey ?? throw new ArgumentNullException(nameof(cacheKey));
        Choices = choices ?? Array.Empty<string>();
    }

    public string Name { get; }

    /// <summary>The KP code of an invalid value; null for metadata validated elsewhere (Url and Sha256, by <see cref="UrlSource.Parse"/>).</summary>
    public string? Code { get; }

    /// <summary>The accepted values, as the diagnostic lists them.</summary>
    public string Accepted { get; }

    public CacheKeyDecision CacheKey { get; }

    /// <summary>The valid names of an enumerated metadata (empty for numbers, paths, lists), for "did you mean" suggestions.</summary>
    public IReadOnlyList<string> Choices { get; }

    private const string TrueOrFalse = "true or false (default)";
    private const string DimensionText = "a whole number of pixels from 1 to 100000, or empty for the original size";
    private static readonly string[] Booleans = { "true", "false" };

    public static readonly ItemMetadata<ImageFormat> Format = new(
        "Format", DiagnosticCodes.InvalidFormat, ImageFormats.AcceptedValues, ImageFormats.TryParse,
        CacheKeyDecision.Part("format", o => ImageFormats.Name(o.Format)), ImageFormats.Names.ToArray());

    public static readonly ItemMetadata<int> Quality = new(
        "Quality", DiagnosticCodes.InvalidQuality, "a whole number from 1 to 100 (default 85)", WholeNumber(1, 100),
        CacheKeyDecision.Part("quality", o => Invariant(o.Quality)));

    public static readonly ItemMetadata<int> Width = new(
        "Width", DiagnosticCodes.InvalidWidth, DimensionText, WholeNumber(1, ConversionOptions.MaxDimension),
        CacheKeyDecision.Part("width", o => o.Width is int w ? Invariant(w) : "auto"));

    public static readonly ItemMetadata<int> Height = new(
        "Height", DiagnosticCodes.InvalidHeight, DimensionText, WholeNumber(1, ConversionOptions.MaxDimension),
        CacheKeyDecision.Part("height", o => o.Height is int h ? Invariant(h) : "auto"));

    public static readonly ItemMetadata<string> Link = new(
        "Link", DiagnosticCodes.InvalidLink, "a relative file path inside the output folder, such as img/hero.webp (not the folder itself, no '..', no control characters)", TryParseLink,
        CacheKeyDecision.NotPart("it decides where the output goes, not its bytes: items that differ only in Link share one cache entry"));

    public static readonly ItemMetadata<FitMode> Fit = Enumerated<FitMode>(
        "Fit", DiagnosticCodes.InvalidFit, "inside (default), outside, cover, contain, fill",
        CacheKeyDecision.Part("fit", o => o.Fit.ToString().ToLowerInvariant()));

    public static readonly ItemMetadata<CropPosition> Position = Enumerated(
        "Position", DiagnosticCodes.InvalidPosition, "center (default), centre, attention, entropy",
        CacheKeyDecision.Part("position", o => o.Position.ToString().ToLowerInvariant()), ("centre", CropPosition.Center));

    public static readonly ItemMetadata<bool> Enlarge = new(
        "Enlarge", DiagnosticCodes.InvalidEnlarge, TrueOrFalse, bool.TryParse,
        CacheKeyDecision.Part("enlarge", o => Invariant(o.Enlarge)), Booleans);

    public static readonly ItemMetadata<Colour> Background = new(
        "Background", DiagnosticCodes.InvalidBackground, "#rgb, #rrggbb, #rrggbbaa, white (default), black or transparent", Colour.TryParse,
        CacheKeyDecision.Part("background", o => o.Background.ToString()));

    public static readonly ItemMetadata<bool> Lossless = new(
        "Lossless", DiagnosticCodes.InvalidLossless, TrueOrFalse, bool.TryParse,
        CacheKeyDecision.Part("lossless", o => Invariant(o.Lossless)), Booleans);

    public static readonly ItemMetadata<SmartQualityLevel> SmartQuality = Enumerated(
        "SmartQuality", DiagnosticCodes.InvalidSmartQuality, "low, medium, high, or empty for the fixed Quality",
        CacheKeyDecision.Part("smart", o => o.SmartQuality.ToString().ToLowerInvariant()), ("none", SmartQualityLevel.None));

    public static readonly ItemMetadata<bool> KeepMetadata = new(
        "KeepMetadata", DiagnosticCodes.InvalidKeepMetadata, TrueOrFalse, bool.TryParse,
        CacheKeyDecision.Part("keepmetadata", o => Invariant(o.KeepMetadata)), Booleans);

    public static readonly ItemMetadata<IReadOnlyList<int>> IcoSizes = new(
        "IcoSizes", DiagnosticCodes.InvalidIcoSizes, "sizes from 1 to 256 separated by ';' or ',', such as 16;32;48", NumberList(1, 256),
        CacheKeyDecision.Part("icosizes", o => string.Join(",", o.IcoSizes.Select(Invariant))));

    public static readonly ItemMetadata<Preset> OptimizeFor = new(
        "OptimizeFor", DiagnosticCodes.InvalidOptimizeFor, Presets.AcceptedValues, Presets.TryGet,
        CacheKeyDecision.NotPart("a preset only supplies defaults for Format, Width, Height, Fit, Enlarge and IcoSizes, which are in the key with the values it gives them"),
        Presets.All.Select(p => p.Name).ToArray());

    public static readonly ItemMetadata<IReadOnlyList<int>> Widths = new(
        "Widths", DiagnosticCodes.InvalidWidths, "widths in pixels from 1 to 100000 separated by ';' or ',', such as 480;960;1920", NumberList(1, ConversionOptions.MaxDimension),
        CacheKeyDecision.NotPart("each width becomes one variant's Width, which is in the key"));

    public static readonly ItemMetadata<PlaceholderKind> Placeholder = Enumerated(
        "Placeholder", DiagnosticCodes.InvalidPlaceholder, "color (the dominant colour), blur (a tiny blurred image and the colour), thumbhash (a ThumbHash, the image decoded from it, and the colour), or none or empty for no placeholder",
        CacheKeyDecision.NotPart("the placeholder is made beside the output and does not change its bytes; the cache entry and the state record which placeholder was made"),
        ("none", PlaceholderKind.None), ("colour", PlaceholderKind.Color));

    public static readonly ItemMetadata<long> MaxBytes = new(
        "MaxBytes", DiagnosticCodes.InvalidMaxBytes, ByteSize.AcceptedValues, ByteSize.TryParse,
        CacheKeyDecision.NotPart("a budget is checked against the output once it is made and does not change its bytes"));

    /// <summary>
    /// One number for every format of the item; its range is each format's (<see cref="FormatDescriptor.Effort"/>),
    /// checked in <see cref="ImageRequest.TryCreate"/>. Here only what no format takes is refused.
    /// </summary>
    public static readonly ItemMetadata<int> Effort = new(
        "Effort", DiagnosticCodes.InvalidEffort, EffortAcceptedValues(), WholeNumber(ImageFormats.All.Min(f => f.Effort?.Min ?? int.MaxValue), ImageFormats.All.Max(f => f.Effort?.Max ?? int.MinValue)),
        CacheKeyDecision.Part("effort", o => o.EncoderEffort is int effort ? Invariant(effort) : "none"));

    public static readonly ItemMetadata Url = new(
        UrlSource.UrlMetadata, null, "an absolute http:// or https:// URL (checked with Sha256 by UrlSource.Parse)",
        CacheKeyDecision.NotPart("the downloaded bytes are the source, and the key hashes the source's bytes"), null);

    public static readonly ItemMetadata Sha256 = new(
        UrlSource.Sha256Metadata, null, "the SHA-256 of the image's bytes (checked with Url by UrlSource.Parse)",
        CacheKeyDecision.NotPart("it pins the downloaded bytes, which the key hashes"), null);

    /// <summary>The table, in the order the cache key text lists the values in the key (changing it changes every key).</summary>
    public static IReadOnlyList<ItemMetadata> All { get; } = new[]
    {
        Format, Quality, Width, Height, Link, Fit, Position, Enlarge, Background, Lossless,
        SmartQuality, KeepMetadata, IcoSizes, OptimizeFor, Widths, Placeholder, Url, Sha256, MaxBytes, Effort,
    };

    /// <summary><c>a whole number, higher is slower and smaller: avif 0 to 9 (default 4), …</c>, from the descriptors.</summary>
    internal static string EffortAcceptedValues() =>
        "a whole number, higher is slower and smaller: "
        + string.Join(", ", ImageFormats.All.Where(f => f.Effort != null).Select(f => f.Name + " " + f.Effort!.RangeText))
        + "; other formats have no effort setting";

    /// <summary>The settings text the cache key hashes: <c>format=webp;quality=80;…</c>, from every row in the key.</summary>
    internal static string CacheKeyText(ConversionOptions options) =>
        string.Join(";", All.Where(m => m.CacheKey.InKey).Select(m => m.CacheKey.Key + "=" + m.CacheKey.Value!(options)));

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(bool value) => value ? "true" : "false";

    private static MetadataParse<int> WholeNumber(int min, int max) => (string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    /// <summary>Ascending, without repeats, separated by ';' or ','; at least one.</summary>
    private static MetadataParse<IReadOnlyList<int>> NumberList(int min, int max) => (string text, out IReadOnlyList<int> value) =>
    {
        var numbers = new SortedSet<int>();
        value = Array.Empty<int>();
        foreach (string part in text.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries))
        {
            string trimmed = part.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }

            if (!int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number < min || number > max)
            {
                return false;
            }

            numbers.Add(number);
        }

        value = numbers.ToArray();
        return numbers.Count > 0;
    };

    /// <summary>Names only, ignoring case: <c>Enum.TryParse</c> would also take "2" or "Inside, Cover". <c>None</c> is taken only through an alias.</summary>
    private static ItemMetadata<TEnum> Enumerated<TEnum>(string name, string code, string accepted, CacheKeyDecision cacheKey, params (string Alias, TEnum Value)[] aliases)
        where TEnum : struct, Enum
    {
        var byName = Enum.GetNames(typeof(TEnum))
            .Where(n => !string.Equals(n, "None", StringComparison.Ordinal))
            .Select(n => (Name: n.ToLowerInvariant(), Value: (TEnum)Enum.Parse(typeof(TEnum), n)))
            .Concat(aliases.Select(a => (Name: a.Alias, a.Value)))
            .ToList();
        return new ItemMetadata<TEnum>(
            name,
            code,
            accepted,
            (string text, out TEnum value) =>
            {
                var match = byName.FirstOrDefault(n => string.Equals(n.Name, text, StringComparison.OrdinalIgnoreCase));
                value = match.Value;
                return match.Name != null;
            },
            cacheKey,
            byName.Select(n => n.Name).ToArray());
    }

    /// <summary>
    /// A file's path inside the output folder: relative, no "..", no control characters (NUL ends a path in the
    /// operating system's calls), ending in a file name rather than a separator, and naming a file rather than the
    /// folder itself ("." or "./").
    /// </summary>
    private static bool TryParseLink(string path, out string link)
    {
        link = path;
        return PathRules.Current.IsContainedRelativePath(path);
    }
}

/// <summary>A row whose value parses into a <typeparamref name="T"/>.</summary>
public sealed class ItemMetadata<T> : ItemMetadata
{
    internal ItemMetadata(string name, string code, string accepted, MetadataParse<T> parse, CacheKeyDecision cacheKey, IReadOnlyList<string>? choices = null)
        : base(name, code, accepted, cacheKey, choices)
    {
        Parse = parse;
    }

    public MetadataParse<T> Parse { get; }
}

/// <summary>Reads one item's metadata through the table's rows, adding one diagnostic for each invalid value.</summary>
internal sealed class MetadataReader
{
    private readonly string itemSpec;
    private readonly Func<string, string> metadata;
    private readonly string projectFile;
    private readonly ICollection<Diagnostic> diagnostics;

    public MetadataReader(string itemSpec, Func<string, string> metadata, string projectFile, ICollection<Diagnostic> diagnostics)
    {
        this.itemSpec = itemSpec;
        this.metadata = metadata;
        this.projectFile = projectFile;
        this.diagnostics = diagnostics;
    }

    /// <summary>The value, or <paramref name="fallback"/> when the metadata is empty or invalid (then with a diagnostic).</summary>
    public T Get<T>(ItemMetadata<T> row, T fallback) => TryRead(row, out T value) ? value : fallback;

    /// <summary>The value, or null when the metadata is empty or invalid (then with a diagnostic).</summary>
    public T? Find<T>(ItemMetadata<T> row)
        where T : struct => TryRead(row, out T value) ? value : null;

    /// <inheritdoc cref="Find{T}"/>
    public T? FindObject<T>(ItemMetadata<T> row)
        where T : class => TryRead(row, out T value) ? value : null;

    private bool TryRead<T>(ItemMetadata<T> row, out T value)
    {
        value = default!;
        string text = metadata(row.Name).Trim();
        if (text.Length == 0)
        {
            return false;
        }

        if (row.Parse(text, out value))
        {
            return true;
        }

        diagnostics.Add(Invalid(itemSpec, row, text, projectFile));
        return false;
    }

    /// <summary>
    /// <c>KoalaImage 'a.png': Format="wepb" is not valid. Accepted values: …. Did you mean 'webp'?</c>; the value is
    /// shown with control characters escaped (a NUL would cut the message).
    /// </summary>
    internal static Diagnostic Invalid(string itemSpec, ItemMetadata row, string value, string projectFile) =>
        Diagnostic.Error(
            row.Code!,
            $"KoalaImage '{itemSpec}': {row.Name}=\"{ImageRequest.Printable(value)}\" is not valid. Accepted values: {row.Accepted}.{Suggestion.DidYouMean(value, row.Choices)}",
            projectFile);
}
