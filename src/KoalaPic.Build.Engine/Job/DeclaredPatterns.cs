using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The KoalaImage items as the project's own files write them: for a warning when an Include with wildcards matches
/// nothing (MSBuild drops such a pattern before any task sees it), and for the line of the element each item comes
/// from, so that diagnostics about an item point at it and repeated ones are grouped per definition.
/// </summary>
public static class DeclaredPatterns
{
    /// <summary>Project files are small; anything larger is read no further.</summary>
    private const long MaxProjectFileBytes = 16L << 20;

    private static readonly char[] Wildcards = { '*', '?' };

    /// <summary>One part of a KoalaImage element's Include (a path or a pattern), and where the element is.</summary>
    public sealed record Definition(string Include, SourceLocation Location)
    {
        public bool HasWildcard => Include.IndexOfAny(Wildcards) >= 0;

        /// <summary>The file that declares it: relative Includes are relative to its folder.</summary>
        public string DeclaredIn => Location.File;

        public string BaseDirectory => Path.GetDirectoryName(Path.GetFullPath(DeclaredIn))!;
    }

    /// <summary>
    /// KP1023 for each wildcard pattern in <paramref name="declaringFiles"/> that none of <paramref name="itemPaths"/>
    /// (the items' paths as MSBuild expanded them, relative to the project folder) matches.
    /// </summary>
    public static IReadOnlyList<Diagnostic> Unmatched(IEnumerable<string> declaringFiles, string projectDirectory, IReadOnlyCollection<string> itemPaths) =>
        Unmatched(ReadAll(declaringFiles), projectDirectory, itemPaths);

    public static IReadOnlyList<Diagnostic> Unmatched(IReadOnlyList<Definition> definitions, string projectDirectory, IReadOnlyCollection<string> itemPaths)
    {
        var warnings = new List<Diagnostic>();
        List<string> fullPaths = itemPaths.Select(path => FullPathOrNull(projectDirectory, path)).OfType<string>().ToList();
        foreach (Definition pattern in definitions.Where(d => d.HasWildcard))
        {
            string? fullPattern = FullPathOrNull(pattern.BaseDirectory, pattern.Include);
            if (fullPattern != null && !fullPaths.Any(ToRegex(fullPattern).IsMatch))
            {
                warnings.Add(Diagnostic.Warning(
                    DiagnosticCodes.PatternMatchesNothing,
                    $"KoalaImage Include=\"{pattern.Include}\" matches no file (looked in '{pattern.BaseDirectory}'), so it converts nothing; outputs it made before are removed. Check the folder and the extension's case, or remove the item.",
                    pattern.DeclaredIn).At(pattern.Location));
            }
        }

        return warnings;
    }

    /// <summary>The definitions in every declaring file, each file read once, in file and then document order.</summary>
    public static IReadOnlyList<Definition> ReadAll(IEnumerable<string> declaringFiles) =>
        declaringFiles.Where(f => f.Trim().Length > 0).Distinct(StringComparer.Ordinal).SelectMany(Read).ToList();

    /// <summary>
    /// Finds the definition an item comes from: the first whose Include (a path or a pattern) matches the item's
    /// path, relative to the project folder. Null when none does (an Include built from properties or items, an item
    /// added by a target or an imported file).
    /// </summary>
    public static Func<string, Definition?> Locator(IReadOnlyList<Definition> definitions, string projectDirectory)
    {
        var matchers = new List<(Definition Definition, Regex? Regex)>();
        foreach (Definition definition in definitions)
        {
            string? full = FullPathOrNull(definition.BaseDirectory, definition.Include);
            matchers.Add((definition, full == null ? null : ToRegex(full)));
        }

        var found = new Dictionary<string, Definition?>(StringComparer.Ordinal);
        return itemSpec =>
        {
            if (!found.TryGetValue(itemSpec, out Definition? definition))
            {
                string? full = FullPathOrNull(projectDirectory, itemSpec);
                definition = full == null ? null : matchers.FirstOrDefault(m => m.Regex?.IsMatch(full) == true).Definition;
                found[itemSpec] = definition;
            }

            return definition;
        };
    }

    /// <summary>Null for a path the platform cannot resolve (illegal characters on Windows): it has no definition to find.</summary>
    private static string? FullPathOrNull(string directory, string path)
    {
        try
        {
            return Path.GetFullPath(Path.Combine(directory, path));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    /// <summary>
    /// The unconditional KoalaImage Include parts in one project file, with the line and column of their element.
    /// Parts that use properties, items or conditions are left out: only MSBuild can evaluate those. A file that
    /// cannot be read gives none.
    /// </summary>
    public static IReadOnlyList<Definition> Read(string projectFile)
    {
        var definitions = new List<Definition>();
        try
        {
            var info = new FileInfo(projectFile);
            if (!info.Exists || info.Length > MaxProjectFileBytes)
            {
                return definitions;
            }

            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };
            using var stream = new MemoryStream(SourceFile.ReadAllBytes(projectFile, MaxProjectFileBytes));
            using var reader = XmlReader.Create(stream, settings);
            var lineInfo = (IXmlLineInfo)reader;

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
                    // The reader's position is the element's name; MSBuild, and so IDEs, count from its '<'.
                    var location = new SourceLocation(projectFile, lineInfo.LineNumber, Math.Max(1, lineInfo.LinePosition - 1));
                    string include = reader.GetAttribute("Include") ?? "";
                    foreach (string part in include.Split(';').Select(p => p.Trim()))
                    {
                        if (part.Length > 0 && !part.Contains("$(") && !part.Contains("@(") && !part.Contains("%("))
                        {
                            definitions.Add(new Definition(part, location));
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is XmlException or IOException or UnauthorizedAccessException)
        {
            // MSBuild reports a broken project file itself.
        }

        return definitions;
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
