using System;
using System.Globalization;
using System.IO;
using System.Text;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// Paths and diagnostics between the engine and MSBuild. MSBuild treats an item's spec and metadata values as escaped
/// (<c>%2F</c> is '/', <c>%3B</c> ';'), so every value handed over is escaped here, and every output item is read back
/// as MSBuild will read it and checked again: the file is the engine's, and TargetPath stays inside the output folder.
/// </summary>
internal static class TaskItems
{
    /// <summary>The characters MSBuild unescapes or expands in an item: escaped as %XX, as MSBuild's own escaping does.</summary>
    private const string Special = "%*?@$();'";
    private static readonly char[] SpecialChars = Special.ToCharArray();

    public static string Escape(string value)
    {
        if (value.IndexOfAny(SpecialChars) < 0)
        {
            return value;
        }

        var escaped = new StringBuilder(value.Length + 8);
        foreach (char c in value)
        {
            if (Special.IndexOf(c) >= 0)
            {
                escaped.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }

    /// <summary>A metadata value as MSBuild reads it back from its escaped form (MSBuild's own unescaping).</summary>
    public static string Unescape(string escaped)
    {
        if (escaped.IndexOf('%') < 0)
        {
            return escaped;
        }

        var probe = new TaskItem("_");
        probe.SetMetadata("_", escaped);
        return probe.GetMetadata("_");
    }

    /// <summary>An item whose spec MSBuild reads back as exactly <paramref name="path"/>.</summary>
    public static TaskItem FileItem(string path) => new(Escape(path));

    /// <summary>
    /// An output for MSBuild to copy: TargetPath relative to bin/, and the KoalaPic* metadata of docs/reference.md. Null,
    /// with the KP3004 error in <paramref name="problem"/>, when MSBuild would not read back the engine's file or would
    /// place it outside the output folder.
    /// </summary>
    /// <param name="outputRoot">The output folder, from <see cref="OutputRoot"/>: made once for all of a run's outputs
    /// (null: no output can be placed).</param>
    public static ITaskItem? Output(JobOutput output, string projectDirectory, string? outputRoot, out Diagnostic? problem)
    {
        string targetPath = output.TargetPath.Replace('/', System.IO.Path.DirectorySeparatorChar);
        string escapedFile = Escape(output.File);
        string escapedTargetPath = Escape(targetPath);

        // Read back after MSBuild's own transformations (unescaping, and on Unix '\' made '/' in the paths its tasks
        // receive, as the copy to $(OutDir)%(TargetPath)), then checked again.
        string file = new TaskItem(escapedFile).ItemSpec;
        string deployedAs = Unescape(escapedTargetPath);
        if (System.IO.Path.DirectorySeparatorChar == '/')
        {
            deployedAs = deployedAs.Replace('\\', '/');
        }

        var item = new OutputItem(escapedFile, file, 5);
        item.Add("TargetPath", escapedTargetPath, deployedAs);
        item.Add("KoalaPicSource", Escape(output.ItemSpec), output.ItemSpec);
        item.Add("KoalaPicFormat", Escape(output.Format), output.Format);
        if (output.Width is int width && output.Height is int height)
        {
            string w = width.ToString(CultureInfo.InvariantCulture), h = height.ToString(CultureInfo.InvariantCulture);
            item.Add("KoalaPicWidth", w, w);
            item.Add("KoalaPicHeight", h, h);
        }

        string? why = file != output.File ? $"MSBuild would read its path as '{file}'"
            : deployedAs != targetPath ? $"MSBuild would read its TargetPath as '{deployedAs}'"
            : !Inside(outputRoot, deployedAs) ? $"its TargetPath '{deployedAs}' leads outside the output folder"
            : null;
        problem = why == null ? null : Diagnostic.Error(
            DiagnosticCodes.NameNotCarried,
            $"KoalaImage '{output.ItemSpec}': the output '{output.File}' was not handed to MSBuild: {why}. Rename the source, or set Link to a plain relative path.",
            System.IO.Path.Combine(projectDirectory, output.ItemSpec));
        return why == null ? item : null;
    }

    /// <summary>The output folder as a full path ending in a separator, as MSBuild's copy joins TargetPath to it; null when the platform's paths cannot hold it.</summary>
    public static string? OutputRoot(string projectDirectory, string outputDirectory)
    {
        try
        {
            return System.IO.Path.GetFullPath(System.IO.Path.Combine(projectDirectory, outputDirectory.Length > 0 ? outputDirectory : "bin"))
                .TrimEnd(System.IO.Path.DirectorySeparatorChar) + System.IO.Path.DirectorySeparatorChar;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    /// <summary>TargetPath, joined to the output folder as MSBuild's copy joins it, names a file inside that folder.</summary>
    private static bool Inside(string? root, string targetPath)
    {
        if (root == null || targetPath.Length == 0 || System.IO.Path.IsPathRooted(targetPath))
        {
            return false;
        }

        if (PlainRelative(targetPath))
        {
            return true; // no segment can lead up or be read as another: the joined path is inside by construction
        }

        try
        {
            string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, targetPath));
            return full.StartsWith(root, System.IO.Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)
                && full.Length > root.Length;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false; // a name the platform's paths cannot hold (.NET Framework refuses '|')
        }
    }

    /// <summary>
    /// A relative path of ordinary names: no empty segment, none beginning or ending with '.' or ' ' (".", "..", and what
    /// Windows trims to them), no ':' (drives, streams), no control character. Anything else takes the full check: a
    /// no-op build hands MSBuild 1,000 outputs, and two full paths for each are most of what that costs.
    /// </summary>
    private static bool PlainRelative(string path)
    {
        int start = 0;
        for (int i = 0; i <= path.Length; i++)
        {
            char c = i < path.Length ? path[i] : '/';
            if (c == '/' || c == '\\')
            {
                if (i == start || path[start] is '.' or ' ' || path[i - 1] is '.' or ' ')
                {
                    return false;
                }

                start = i + 1;
            }
            else if (c == ':' || c < ' ')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A diagnostic as MSBuild's error or warning, with the file an IDE jumps to; the line and column of the KoalaImage
    /// element, when known, make the log read "Project.csproj(12,5): error KP1001".
    /// </summary>
    public static void Log(TaskLoggingHelper log, Diagnostic diagnostic)
    {
        if (diagnostic.Severity == DiagnosticSeverity.Error)
        {
            log.LogError(null, diagnostic.Code, null, diagnostic.File, diagnostic.Line ?? 0, diagnostic.Column ?? 0, 0, 0, diagnostic.Message);
        }
        else
        {
            log.LogWarning(null, diagnostic.Code, null, diagnostic.File, diagnostic.Line ?? 0, diagnostic.Column ?? 0, 0, 0, diagnostic.Message);
        }
    }
}
