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

    public static string Escape(string value)
    {
        if (value.IndexOfAny(Special.ToCharArray()) < 0)
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

    /// <summary>An item whose spec MSBuild reads back as exactly <paramref name="path"/>.</summary>
    public static TaskItem FileItem(string path) => new(Escape(path));

    /// <summary>
    /// An output for MSBuild to copy: TargetPath relative to bin/, and the KoalaPic* metadata of docs/reference.md. Null,
    /// with the KP3004 error in <paramref name="problem"/>, when MSBuild would not read back the engine's file or would
    /// place it outside <paramref name="outputDirectory"/>.
    /// </summary>
    public static ITaskItem? Output(JobOutput output, string projectDirectory, string outputDirectory, out Diagnostic? problem)
    {
        string targetPath = output.TargetPath.Replace('/', System.IO.Path.DirectorySeparatorChar);
        TaskItem item = FileItem(output.File);
        item.SetMetadata("TargetPath", Escape(targetPath));
        item.SetMetadata("KoalaPicSource", Escape(output.ItemSpec));
        item.SetMetadata("KoalaPicFormat", Escape(output.Format));
        if (output.Width is int width && output.Height is int height)
        {
            item.SetMetadata("KoalaPicWidth", width.ToString(CultureInfo.InvariantCulture));
            item.SetMetadata("KoalaPicHeight", height.ToString(CultureInfo.InvariantCulture));
        }

        // Read back after MSBuild's own transformations (unescaping, and on Unix '\' made '/' in the paths its tasks
        // receive, as the copy to $(OutDir)%(TargetPath)), then checked again.
        string file = item.ItemSpec;
        string deployedAs = item.GetMetadata("TargetPath");
        if (System.IO.Path.DirectorySeparatorChar == '/')
        {
            deployedAs = deployedAs.Replace('\\', '/');
        }

        string? why = file != output.File ? $"MSBuild would read its path as '{file}'"
            : deployedAs != targetPath ? $"MSBuild would read its TargetPath as '{deployedAs}'"
            : !Inside(projectDirectory, outputDirectory, deployedAs) ? $"its TargetPath '{deployedAs}' leads outside the output folder"
            : null;
        problem = why == null ? null : Diagnostic.Error(
            DiagnosticCodes.NameNotCarried,
            $"KoalaImage '{output.ItemSpec}': the output '{output.File}' was not handed to MSBuild: {why}. Rename the source, or set Link to a plain relative path.",
            System.IO.Path.Combine(projectDirectory, output.ItemSpec));
        return why == null ? item : null;
    }

    /// <summary>TargetPath, joined to the output folder as MSBuild's copy joins it, names a file inside that folder.</summary>
    private static bool Inside(string projectDirectory, string outputDirectory, string targetPath)
    {
        if (targetPath.Length == 0 || System.IO.Path.IsPathRooted(targetPath))
        {
            return false;
        }

        try
        {
            string root = System.IO.Path.GetFullPath(System.IO.Path.Combine(projectDirectory, outputDirectory.Length > 0 ? outputDirectory : "bin"))
                .TrimEnd(System.IO.Path.DirectorySeparatorChar) + System.IO.Path.DirectorySeparatorChar;
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
