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

    /// <summary>The output's budget in bytes (MaxBytes metadata); null for none. Not part of the output's key: it does not change the output's bytes.</summary>
    public long? MaxBytes { get; init; }

    /// <summary>The item metadata names this parser reads: the names of <see cref="ItemMetadata.All"/>.</summary>
    public static readonly IReadOnlyList<string> MetadataNames = ItemMetadata.All.Select(m => m.Name).ToArray();

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
        var read = new MetadataReader(itemSpec, metadata, projectFile, diagnostics);
        int before = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);

        // A preset supplies defaults; every metadata the item sets explicitly wins over it.
        Preset? preset = read.FindObject(ItemMetadata.OptimizeFor);
        ImageFormat format = read.Find(ItemMetadata.Format) ?? preset?.Format ?? ConversionOptions.Default.Format;
        int? quality = read.Find(ItemMetadata.Quality);
        int? width = read.Find(ItemMetadata.Width) ?? preset?.Width;
        int? height = read.Find(ItemMetadata.Height) ?? preset?.Height;
        FitMode fit = read.Get(ItemMetadata.Fit, preset?.Fit ?? FitMode.Inside);
        CropPosition position = read.Get(ItemMetadata.Position, CropPosition.Center);
        bool enlarge = read.Find(ItemMetadata.Enlarge) ?? preset?.Enlarge ?? false;
        Colour background = read.Get(ItemMetadata.Background, Colour.White);
        bool lossless = read.Get(ItemMetadata.Lossless, false);
        SmartQualityLevel smart = read.Get(ItemMetadata.SmartQuality, SmartQualityLevel.None);
        bool keepMetadata = read.Get(ItemMetadata.KeepMetadata, false);
        IReadOnlyList<int> icoSizes = read.FindObject(ItemMetadata.IcoSizes) ?? preset?.IcoSizes ?? ConversionOptions.DefaultIcoSizes;
        PlaceholderKind placeholder = read.Get(ItemMetadata.Placeholder, PlaceholderKind.None);
        string link = read.FindObject(ItemMetadata.Link) ?? "";
        long? maxBytes = read.Find(ItemMetadata.MaxBytes);
        int? effort = read.Find(ItemMetadata.Effort);

        UrlSource? url = UrlSource.Parse(itemSpec, metadata, projectFile, diagnostics);
        if (diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error) > before)
        {
            return null;
        }

        FormatDescriptor descriptor = ImageFormats.Of(format);
        if (effort is int asked && descriptor.Effort is FormatEffort knob && !knob.Accepts(asked))
        {
            diagnostics.Add(Diagnostic.Error(
                DiagnosticCodes.InvalidEffort,
                $"KoalaImage '{itemSpec}': Effort=\"{asked}\" is not valid for {descriptor.Name} output. Accepted values for {descriptor.Name}: {knob.RangeText}.",
                projectFile));
            return null;
        }

        if (effort != null && descriptor.Effort == null)
        {
            // ImageVariants drops this warning when another format of the item has an effort setting.
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.EffortIgnored,
                $"KoalaImage '{itemSpec}': Effort=\"{effort}\" has no effect on {descriptor.Name} output (it applies to {ImageFormats.NamesWhere(f => f.Effort != null)}).",
                projectFile));
            effort = null;
        }

        if (smart != SmartQualityLevel.None && lossless && descriptor.SupportsLossless)
        {
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.SmartQualityIgnored,
                $"KoalaImage '{itemSpec}': SmartQuality=\"{metadata("SmartQuality").Trim()}\" has no effect with Lossless=\"true\"; the output is lossless.",
                projectFile));
            smart = SmartQualityLevel.None;
        }
        else if (smart != SmartQualityLevel.None && !descriptor.SmartQualityApplies)
        {
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.SmartQualityIgnored,
                $"KoalaImage '{itemSpec}': SmartQuality=\"{metadata("SmartQuality").Trim()}\" has no effect on {descriptor.Name} output (it applies to {ImageFormats.NamesWhere(f => f.SmartQualityApplies)}); Quality={quality ?? ConversionOptions.DefaultQuality} is used.",
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

        if (lossless && !descriptor.SupportsLossless)
        {
            diagnostics.Add(Diagnostic.Warning(
                DiagnosticCodes.LosslessIgnored,
                $"KoalaImage '{itemSpec}': Lossless=\"true\" has no effect on {descriptor.Name} output, which is always lossy; use png, webp or avif for lossless output.",
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
            Effort = effort,
        };
        return new ImageRequest(itemSpec, sourcePath, destination, options) { Url = url, Placeholder = placeholder, MaxBytes = maxBytes };
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

    /// <summary>
    /// Link wins (its extension replaced by the format's); otherwise the project-relative path; a file outside the
    /// project folder lands at the root of the output, as MSBuild's AssignTargetPath does for content.
    /// </summary>
    internal static string OutputPathFor(string sourcePath, string projectDirectory, string link, ImageFormat format)
    {
        string relative = link.Length > 0 ? link : ProjectRelative(sourcePath, projectDirectory);

        // One spelling per file: "./a.png" and "img//a.png" must not pass for outputs other than "a.png" and
        // "img/a.png" in the duplicate check (KP1010) and the state file.
        relative = string.Join("/", relative.Split(new[] { '/', '\\' }, StringSplitOptions.RemoveEmptyEntries).Where(segment => segment != "."));
        return Path.ChangeExtension(relative, ImageFormats.Extension(format));
    }

    /// <summary>
    /// The source's path relative to the project folder, '/'-separated; a file outside the folder is named by its file
    /// name alone, where its output lands (<see cref="OutputPathFor"/>). The manifest names sources the same way.
    /// </summary>
    internal static string ProjectRelative(string sourcePath, string projectDirectory)
    {
        string root = Path.GetFullPath(projectDirectory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string full = Path.GetFullPath(sourcePath);
        string relative = full.StartsWith(root, PathRules.Current.Comparison) ? full.Substring(root.Length) : Path.GetFileName(full);
        return relative.Replace('\\', '/');
    }
}
