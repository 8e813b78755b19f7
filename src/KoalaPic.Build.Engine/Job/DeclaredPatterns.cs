using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace KoalaPic.Build.Engine;

/// <summary>
/// KoalaImage Include patterns with wildcards, as the project's own files write them (MSBuild drops a pattern that
/// matches nothing before any task sees it), so that one matching no file gets a warning instead of silence.
/// </summary>
public static class DeclaredPatterns
{
    /// <summary>Project files are small; anything larger is read no further.</summary>
    private const long MaxProjectFileBytes = 16L << 20;

    /// <summary>A KoalaImage Include pattern with a wildcard, and the file that declares it.</summary>
    public sealed record Pattern(string Include, string DeclaredIn);

    /// <summary>
    /// KP1023 for each wildcard pattern in <paramref name="declaringFiles"/> that none of <paramref name="itemPaths"/>
    /// (the items' full paths, as MSBuild expanded them) matches.
    /// </summary>
    public static IReadOnlyList<Diagnostic> Unmatched(IEnumerable<string> declaringFiles, string projectDirectory, IReadOnlyCollection<string> itemPaths)
    {
        var warnings = new List<Diagnostic>();
        List<string> fullPaths = itemPaths.Select(path => Path.GetFullPath(Path.Combine(projectDirectory, path))).ToList();
        foreach (Pattern pattern in declaringFiles.Where(f => f.Trim().Length > 0).Distinct(StringComparer.Ordinal).SelectMany(Read))
        {
            string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(pattern.DeclaredIn))!;
            Regex regex = ToRegex(Path.GetFullPath(Path.Combine(baseDirectory, pattern.Include)));
            if (!fullPaths.Any(regex.IsMatch))
            {
                warnings.Add(Diagnostic.Warning(
                    DiagnosticCodes.PatternMatchesNothing,
                    $"KoalaImage Include=\"{pattern.Include}\" matches no file (looked in '{baseDirectory}'), so it converts nothing; outputs it made before are removed. Check the folder and the extension's case, or remove the item.",
                    pattern.DeclaredIn));
            }
        }

        return warnings;
    }

    /// <summary>
    /// The unconditional KoalaImage Include patterns with '*' or '?' in one project file. Patterns that use properties,
    /// items or conditions are left out: only MSBuild can evaluate those. A file that cannot be read gives none.
    /// </summary>
    public static IReadOnlyList<Pattern> Read(string projectFile)
    {
        var patterns = new List<Pattern>();
        try
        {
            var info = new FileInfo(projectFile);
            if (!info.Exists || info.Length > MaxProjectFileBytes)
            {
                return patterns;
            }

            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };
            using var stream = new MemoryStream(SourceFile.ReadAllBytes(projectFile, MaxProjectFileBytes));
            using var reader = XmlReader.Create(stream, settings);

            // Depth 1: Project's children; an ItemGroup with a Condition, or any item inside a Target, is skipped.
            bool inPlainItemGroup = false;
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    continue;
                }

                if (reader.Depth == 1)
                {
                    inPlainItemGroup = reader.LocalName == "ItemGroup" && reader.GetAttribute("Condition") == null;
                }
                else if (reader.Depth == 2 && inPlainItemGroup && reader.LocalName == "KoalaImage" && reader.GetAttribute("Condition") == null)
                {
                    string include = reader.GetAttribute("Include") ?? "";
                    foreach (string part in include.Split(';').Select(p => p.Trim()))
                    {
                        if (part.IndexOfAny(new[] { '*', '?' }) >= 0 && !part.Contains("$(") && !part.Contains("@(") && !part.Contains("%("))
                        {
                            patterns.Add(new Pattern(part, projectFile));
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is XmlException or IOException or UnauthorizedAccessException)
        {
            // MSBuild reports a broken project file itself.
        }

        return patterns;
    }

    /// <summary>
    /// MSBuild's wildcards over a full path: '?' one character and '*' any run of characters within one folder name,
    /// '**' as a whole segment any number of folders. Written out rather than taken from a globbing package: the
    /// .NET Framework task shares Visual Studio's process, where a second copy of such a library can clash.
    /// </summary>
    internal static Regex ToRegex(string fullPattern)
    {
        string[] segments = fullPattern.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var regex = new StringBuilder("^");
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i];
            bool last = i == segments.Length - 1;
            if (segment == "**")
            {
                regex.Append(last ? ".*" : "(?:[^/\\\\]*[/\\\\])*");
                continue;
            }

            foreach (char c in segment)
            {
                regex.Append(c switch
                {
                    '*' => "[^/\\\\]*",
                    '?' => "[^/\\\\]",
                    _ => Regex.Escape(c.ToString()),
                });
            }

            if (!last)
            {
                regex.Append("[/\\\\]");
            }
        }

        regex.Append('$');
        // Windows file systems ignore case, and so do MSBuild's globs there.
        var options = RegexOptions.CultureInvariant | (PathRules.Current.IgnoresCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        return new Regex(regex.ToString(), options);
    }
}
