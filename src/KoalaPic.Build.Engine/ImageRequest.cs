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
    /// <summary>The item metadata names this parser reads.</summary>
    public static readonly IReadOnlyList<string> MetadataNames = new[] { "Format", "Quality", "Width", "Height", "Link" };

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
        int before = diagnostics.Count;
        var format = ImageFormat.Jpeg;
        string formatText = metadata("Format").Trim();
        if (formatText.Length > 0 && !ImageFormats.TryParse(formatText, out format))
        {
            diagnostics.Add(Invalid(DiagnosticCodes.InvalidFormat, itemSpec, "Format", formatText, ImageFormats.AcceptedValues, projectFile));
        }

        int quality = ParseInt(metadata("Quality"), 1, 100, "Quality", DiagnosticCodes.InvalidQuality, "a whole number from 1 to 100 (default 85)")
            ?? ConversionOptions.DefaultQuality;
        int? width = ParseInt(metadata("Width"), 1, ConversionOptions.MaxDimension, "Width", DiagnosticCodes.InvalidWidth, DimensionText);
        int? height = ParseInt(metadata("Height"), 1, ConversionOptions.MaxDimension, "Height", DiagnosticCodes.InvalidHeight, DimensionText);

        string link = metadata("Link").Trim();
        if (link.Length > 0 && !IsContainedRelativePath(link))
        {
            diagnostics.Add(Invalid(DiagnosticCodes.InvalidLink, itemSpec, "Link", link, "a relative path inside the output folder, such as img/hero.webp", projectFile));
        }

        if (diagnostics.Count > before)
        {
            return null;
        }

        string destination = OutputPathFor(sourcePath, projectDirectory, link, format);
        return new ImageRequest(itemSpec, sourcePath, destination, new ConversionOptions(format, quality, width, height));

        int? ParseInt(string raw, int min, int max, string name, string code, string accepted)
        {
            string text = raw.Trim();
            if (text.Length == 0)
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
            {
                return value;
            }

            diagnostics.Add(Invalid(code, itemSpec, name, text, accepted, projectFile));
            return null;
        }
    }

    private const string DimensionText = "a whole number of pixels from 1 to 100000, or empty for the original size";

    private static Diagnostic Invalid(string code, string itemSpec, string name, string value, string accepted, string projectFile) =>
        Diagnostic.Error(
            code,
            $"KoalaImage '{itemSpec}': {name}=\"{value}\" is not valid. Accepted values: {accepted}.",
            projectFile);

    private static bool IsContainedRelativePath(string path)
    {
        if (Path.IsPathRooted(path) || path.IndexOf(':') >= 0)
        {
            return false;
        }

        foreach (string segment in path.Split('/', '\\'))
        {
            if (segment == "..")
            {
                return false;
            }
        }

        return true;
    }

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
            var comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            relative = full.StartsWith(root, comparison) ? full.Substring(root.Length) : Path.GetFileName(full);
        }

        // One spelling per file: "./a.png" and "img//a.png" must not pass for outputs other than "a.png" and
        // "img/a.png" in the duplicate check (KP1010) and the state file.
        relative = string.Join("/", relative.Split(new[] { '/', '\\' }, StringSplitOptions.RemoveEmptyEntries).Where(segment => segment != "."));
        return Path.ChangeExtension(relative, ImageFormats.Extension(format));
    }
}
