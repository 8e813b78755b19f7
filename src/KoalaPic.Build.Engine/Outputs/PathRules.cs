using System;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// How the build machine's file system reads a path, as pure string rules so Windows' can be tested on Linux:
/// Windows has drive letters and \\server\share roots, takes '\' and '/' alike, compares names without case, drops
/// trailing dots and spaces from names and reserves device names (CON, NUL, COM1, …); Unix has '/' only and compares
/// names exactly. <see cref="OwnedFolder"/> and Link validation (KP1005) use <see cref="Current"/>.
/// </summary>
public sealed class PathRules
{
    public static readonly PathRules Windows = new(isWindows: true);
    public static readonly PathRules Unix = new(isWindows: false);

    /// <summary>The rules of the file system this process runs on.</summary>
    public static PathRules Current { get; } = System.IO.Path.DirectorySeparatorChar == '\\' ? Windows : Unix;

    private static readonly string[] DeviceNames =
        new[] { "CON", "PRN", "AUX", "NUL" }
            .Concat(Enumerable.Range(0, 10).SelectMany(i => new[] { "COM" + i, "LPT" + i }))
            .ToArray();

    private readonly bool isWindows;

    private PathRules(bool isWindows)
    {
        this.isWindows = isWindows;
        Separators = isWindows ? new[] { '\\', '/' } : new[] { '/' };
    }

    /// <summary>Whether names differing only in case are one file: on Windows.</summary>
    public bool IgnoresCase => isWindows;

    /// <summary>How two paths of this file system are compared.</summary>
    public StringComparison Comparison => IgnoresCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>The characters that separate folders.</summary>
    public char[] Separators { get; }

    /// <summary>
    /// True when <paramref name="path"/> is <paramref name="root"/> or lies under it; both full paths (as GetFullPath
    /// gives them). On Windows '/' is '\' and the \\?\ prefix of a long path is ignored, so C:/a, C:\a and \\?\C:\a are one folder.
    /// </summary>
    public bool IsInside(string path, string root)
    {
        string inner = Canonical(path).TrimEnd(Separators);
        string outer = Canonical(root).TrimEnd(Separators);
        return string.Equals(inner, outer, Comparison)
            || (inner.Length > outer.Length && inner.StartsWith(outer, Comparison) && Separators.Contains(inner[outer.Length]));
    }

    /// <summary>
    /// A Link: a file's path inside the output folder. Relative (no root, no drive, no ':'), no "..", no control
    /// characters (NUL ends a path in the operating system's calls), ending in a file name rather than a separator,
    /// and naming a file rather than the folder itself ("." or "./"). '\' separates folders here on every system, as
    /// MSBuild writes Links with it. On Windows also no name that Windows would change or refuse: one ending in a dot or
    /// a space (Windows drops them: "img./a.png" would be "img\a.png"), a device name (CON, NUL.webp, com1, …) or one of
    /// &lt; &gt; " | ? *.
    /// </summary>
    public bool IsContainedRelativePath(string path)
    {
        bool rooted = isWindows ? path.Length > 0 && (path[0] == '\\' || path[0] == '/') : path.StartsWith("/", StringComparison.Ordinal);
        if (rooted || path.IndexOf(':') >= 0 || path.EndsWith("/", StringComparison.Ordinal) || path.EndsWith("\\", StringComparison.Ordinal))
        {
            return false;
        }

        if (path.Any(char.IsControl) || (isWindows && path.IndexOfAny(WindowsInvalidNameCharacters) >= 0))
        {
            return false;
        }

        bool namesSomething = false;
        foreach (string segment in path.Split('/', '\\'))
        {
            if (segment == ".." || (isWindows && !IsWindowsName(segment)))
            {
                return false;
            }

            namesSomething |= segment.Length > 0 && segment != ".";
        }

        string fileName = path.Substring(path.LastIndexOfAny(Separators) + 1);
        return namesSomething && fileName is not ("." or "");
    }

    private static readonly char[] WindowsInvalidNameCharacters = { '<', '>', '"', '|', '?', '*' };

    /// <summary>A name Windows keeps as written: "" and "." are separators' business; no trailing dot or space, no device.</summary>
    private static bool IsWindowsName(string segment)
    {
        if (segment.Length == 0 || segment == ".")
        {
            return true;
        }

        if (segment.EndsWith(".", StringComparison.Ordinal) || segment.EndsWith(" ", StringComparison.Ordinal))
        {
            return false;
        }

        int dot = segment.IndexOf('.');
        string stem = (dot < 0 ? segment : segment.Substring(0, dot)).TrimEnd(' ');
        return !DeviceNames.Contains(stem, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>On Windows: '\' for '/', and \\?\C:\a read as C:\a, \\?\UNC\server\share as \\server\share.</summary>
    private string Canonical(string path)
    {
        if (!isWindows)
        {
            return path;
        }

        path = path.Replace('/', '\\');
        if (path.StartsWith(@"\\?\UNC\", StringComparison.OrdinalIgnoreCase))
        {
            return @"\\" + path.Substring(8);
        }

        return path.StartsWith(@"\\?\", StringComparison.Ordinal) ? path.Substring(4) : path;
    }
}
