using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>One image to convert: where it comes from, where it goes (relative to the output folder) and how.</summary>
/// <param name="ItemSpec">The item as the user wrote it, for messages.</param>
/// <param name="SourcePath">The absolute path of the source image.</param>
/// <param name="OutputPath">The destination relative to the output folder, with the format's extension, '/'-separated.</param>
public sealed record ImageRequest(string ItemSpec, string SourcePath, string OutputPath, ConversionOptions Options)
{
    /// <summary>Set when the image is downloaded (Url metadata); <see cref="SourcePath"/> is then its place in the project, not a file.</summary>
    public UrlSource? Url { get; init; }

    /// <summary>
    /// The placeholder to make with this output (Placeholder metadata). Not part of the output's key: it does not
    /// change the output's bytes. <see cref="ImageVariants"/> asks it of an item's first variant only.
    /// </summary>
    public PlaceholderKind Placeholder { get; init; }

    /// <summary>The item metadata names this parser reads.</summary>
    public static readonly IReadOnlyList<string> MetadataNames = new[]
    {
        "Format", "Quality", "Width", "Height", "Link", "Fit", "Position", "Enlarge", "Background", "Lossless",
        "SmartQuality", "KeepMetadata", "IcoSizes", "OptimizeFor", "Widths", "Placeholder", UrlSource.UrlMetadata, UrlSource.Sha256Metadata,
    };

    /// <summary>
    /// Validates an item's metadata up front; every problem becomes one diagnostic naming the item, the metadata,
    /// the accepted values and the value received. Returns null when any metadata is invalid.
    /// </summary>
    /// <param name="metadata">Returns a metadata value, or an empty string when it is not set.</param>
    /// <param name="projectFile">Where metadata problems point: the file that declares the item.</param>
    public static ImageRequest? TryCreate(
        string itemSpec,
        string sourcePath,
        string projectDirectory,
        Func<string, string> metadata,
        string projectFile,
        ICollection<Diagnostic> diagnostics)
    {
        var parser = new MetadataParser(itemSpec, metadata, projectFile, diagnostics);
        int before = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);

        // A preset supplies defaults; every metadata the item sets explicitly wins over it.
        Preset? preset = parser.Parse("OptimizeFor", DiagnosticCodes.InvalidOptimizeFor, Presets.AcceptedValues, text => Presets.TryGet(text, out Preset p) ? p : null);
        ImageFormat format = parser.Parse("Format", DiagnosticCodes.InvalidFormat, ImageFormats.AcceptedValues, ParseFormat) ?? preset?.Format ?? ImageFormat.Jpeg;
        int? quality = parser.ParseInt("Quality", DiagnosticCodes.InvalidQuality, 1, 100, "a whole number from 1 to 100 (default 85)");
        int? width = parser.ParseInt("Width", DiagnosticCodes.InvalidWidth, 1, ConversionOptions.MaxDimension, DimensionText) ?? preset?.Width;
        int? height = parser.ParseInt("Height", DiagnosticCodes.InvalidHeight, 1, ConversionOptions.MaxDimension, DimensionText) ?? preset?.Height;
        FitMode fit = parser.ParseEnum("Fit", DiagnosticCodes.InvalidFit, "inside (default), outside, cover, contain, fill", preset?.Fit ?? FitMode.Inside);
        CropPosition position = parser.ParseEnum("Position", DiagnosticCodes.InvalidPosition, "center (default), centre, attention, entropy", CropPosition.Center, ("centre", CropPosition.Center));
        bool enlarge = parser.ParseBool("Enlarge", DiagnosticCodes.InvalidEnlarge) ?? preset?.Enlarge ?? false;
        Colour background = parser.Parse("Background", DiagnosticCodes.InvalidBackground, "#rgb, #rrggbb, #rrggbbaa, white (default), black or transparent", text => Colour.TryParse(text, out Colour c) ? c : (Colour?)null) ?? Colour.White;
        bool lossless = parser.ParseBool("Lossless", DiagnosticCodes.InvalidLossless) ?? false;
        SmartQualityLevel smart = parser.ParseEnum("SmartQuality", DiagnosticCodes.InvalidSmartQuality, "low, medium, high, or empty for the fixed Quality", SmartQualityLevel.None, ("none", SmartQualityLevel.None));
        bool keepMetadata = parser.ParseBool("KeepMetadata", DiagnosticCodes.InvalidKeepMetadata) ?? false;
        IReadOnlyList<int> icoSizes = parser.Parse("IcoSizes", DiagnosticCodes.InvalidIcoSizes, "sizes from 1 to 256 separated by ';' or ',', such as 16;32;48", ParseIcoSizes)
            ?? preset?.IcoSizes ?? ConversionOptions.DefaultIcoSizes;

        PlaceholderKind placeholder = parser.ParseEnum("Placeholder", DiagnosticCodes.InvalidPlaceholder, "color (the dominant colour), blur (a tiny blurred image and the colour), or none or empty for no placeholder", PlaceholderKind.None, ("none", PlaceholderKind.None), ("colour", PlaceholderKind.Color));

        string link = metadata("Link").Trim();
        if (link.Length > 0 && !PathRules.Current.IsContainedRelativePath(link))
        {
            diagnostics.Add(Invalid(DiagnosticCodes.InvalidLink, itemSpec, "Link", Printable(link), "a relative file path inside the output folder, such as img/hero.webp (not the folder itself, no '..', no control characters)", projectFile));
        }

        UrlSource? url = UrlSource.Parse(itemSpec, metadata, projectFile, diagnostics);
        if (diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error) > before)
        {
            return null;
        }

        if (smart != SmartQualityLevel.None && lossless && SupportsLossless(format))
        {
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.SmartQualityIgnored,
                $"KoalaImage '{itemSpec}': SmartQuality=\"{metadata("SmartQuality").Trim()}\" has no effect with Lossless=\"true\"; the output is lossless.",
                projectFile));
            smart = SmartQualityLevel.None;
        }
        else if (smart != SmartQualityLevel.None && !SmartQuality.Supports(format))
        {
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.SmartQualityIgnored,
                $"KoalaImage '{itemSpec}': SmartQuality=\"{metadata("SmartQuality").Trim()}\" has no effect on {ImageFormats.Name(format)} output (it applies to jpg, webp and avif); Quality={quality ?? ConversionOptions.DefaultQuality} is used.",
                projectFile));
            smart = SmartQualityLevel.None;
        }
        else if (smart != SmartQualityLevel.None && quality != null)
        {
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.QualityAndSmartQuality,
                $"KoalaImage '{itemSpec}': both Quality=\"{quality}\" and SmartQuality=\"{metadata("SmartQuality").Trim()}\" are set; SmartQuality wins and Quality is ignored. Remove one of them.",
                projectFile));
        }

        if (lossless && !SupportsLossless(format))
        {
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.LosslessIgnored,
                $"KoalaImage '{itemSpec}': Lossless=\"true\" has no effect on {ImageFormats.Name(format)} output, which is always lossy; use png, webp or avif for lossless output.",
                projectFile));
            lossless = false;
        }

        string destination = OutputPathFor(sourcePath, projectDirectory, link, format);
        var options = new ConversionOptions(format, quality ?? ConversionOptions.DefaultQuality, width, height)
        {
            Fit = fit,
            Position = position,
            Enlarge = enlarge,
            Background = background,
            Lossless = lossless,
            SmartQuality = smart,
            KeepMetadata = keepMetadata,
            IcoSizes = icoSizes,
        };
        return new ImageRequest(itemSpec, sourcePath, destination, options) { Url = url, Placeholder = placeholder };
    }

    private static bool SupportsLossless(ImageFormat format) => format != ImageFormat.Jpeg;

    private static ImageFormat? ParseFormat(string text) => ImageFormats.TryParse(text, out ImageFormat f) ? f : null;

    private static IReadOnlyList<int>? ParseIcoSizes(string text)
    {
        var sizes = new SortedSet<int>();
        foreach (string part in text.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 1 || size > 256)
            {
                return null;
            }

            sizes.Add(size);
        }

        return sizes.Count > 0 ? sizes.ToArray() : null;
    }

    /// <summary>Reads one item's metadata values, adding a diagnostic for each invalid one.</summary>
    private sealed class MetadataParser
    {
        private readonly string itemSpec;
        private readonly Func<string, string> metadata;
        private readonly string projectFile;
        private readonly ICollection<Diagnostic> diagnostics;

        public MetadataParser(string itemSpec, Func<string, string> metadata, string projectFile, ICollection<Diagnostic> diagnostics)
        {
            this.itemSpec = itemSpec;
            this.metadata = metadata;
            this.projectFile = projectFile;
            this.diagnostics = diagnostics;
        }

        /// <summary>Null when the metadata is empty or invalid (then with a diagnostic).</summary>
        public T? Parse<T>(string name, string code, string accepted, Func<string, T?> parse)
            where T : class => ParseCore(name, code, accepted, text => parse(text) is T value ? (true, value) : (false, null!)) is (true, T v) ? v : null;

        public T? Parse<T>(string name, string code, string accepted, Func<string, T?> parse)
            where T : struct => ParseCore(name, code, accepted, text => parse(text) is T value ? (true, value) : (false, default)) is (true, T v) ? v : null;

        public int? ParseInt(string name, string code, int min, int max, string accepted) =>
            Parse<int>(name, code, accepted, text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v : null);

        public bool? ParseBool(string name, string code) =>
            Parse<bool>(name, code, "true or false (default)", text => bool.TryParse(text, out bool v) ? v : null);

        public TEnum ParseEnum<TEnum>(string name, string code, string accepted, TEnum fallback, params (string Alias, TEnum Value)[] aliases)
            where TEnum : struct, Enum =>
            Parse<TEnum>(name, code, accepted, text =>
            {
                foreach (var (alias, value) in aliases)
                {
                    if (string.Equals(alias, text, StringComparison.OrdinalIgnoreCase))
                    {
                        return value;
                    }
                }

                // Names only: Enum.TryParse would also take "2" or "Inside, Cover".
                return Enum.GetNames(typeof(TEnum)).FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) is string match
                       && !string.Equals(match, "None", StringComparison.Ordinal)
                    ? (TEnum)Enum.Parse(typeof(TEnum), match)
                    : null;
            }) ?? fallback;

        private (bool Ok, T Value) ParseCore<T>(string name, string code, string accepted, Func<string, (bool, T)> parse)
        {
            string text = metadata(name).Trim();
            if (text.Length == 0)
            {
                return (false, default!);
            }

            var (ok, value) = parse(text);
            if (!ok)
            {
                diagnostics.Add(Invalid(code, itemSpec, name, text, accepted, projectFile));
            }

            return (ok, value);
        }
    }

    /// <summary>A value as it can be shown in a log: control characters (a NUL would cut the message) as \\uXXXX.</summary>
    internal static string Printable(string value)
    {
        var text = new System.Text.StringBuilder(value.Length);
        foreach (char c in value)
        {
            text.Append(char.IsControl(c) ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString());
        }

        return text.ToString();
    }

    private const string DimensionText = "a whole number of pixels from 1 to 100000, or empty for the original size";

    private static Diagnostic Invalid(string code, string itemSpec, string name, string value, string accepted, string projectFile) =>
        Diagnostic.Error(
            code,
            $"KoalaImage '{itemSpec}': {name}=\"{value}\" is not valid. Accepted values: {accepted}.",
            projectFile);

    /// <summary>
    /// Link wins (its extension replaced by the format's); otherwise the project-relative path; a file outside the
    /// project folder lands at the root of the output, as MSBuild's AssignTargetPath does for content.
    /// </summary>
    internal static string OutputPathFor(string sourcePath, string projectDirectory, string link, ImageFormat format)
    {
        string relative;
        if (link.Length > 0)
        {
            relative = link;
        }
        else
        {
            string root = Path.GetFullPath(projectDirectory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
            string full = Path.GetFullPath(sourcePath);
            relative = full.StartsWith(root, PathRules.Current.Comparison) ? full.Substring(root.Length) : Path.GetFileName(full);
        }

        // One spelling per file: "./a.png" and "img//a.png" must not pass for outputs other than "a.png" and
        // "img/a.png" in the duplicate check (KP1010) and the state file.
        relative = string.Join("/", relative.Split(new[] { '/', '\\' }, StringSplitOptions.RemoveEmptyEntries).Where(segment => segment != "."));
        return Path.ChangeExtension(relative, ImageFormats.Extension(format));
    }
}
