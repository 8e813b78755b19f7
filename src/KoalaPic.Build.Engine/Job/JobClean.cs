using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace KoalaPic.Build.Engine;

/// <summary>
/// What <c>dotnet clean</c> removes (docs/reference.md, Targets): the job folder, the default cache when the project
/// uses it, and the files the job wrote elsewhere that MSBuild's own clean does not know (KoalaPicReportPath). It holds
/// the project's lock (<see cref="BuildLock"/>) while it deletes, so a clean never pulls files from under a build that
/// is converting, and it removes a link on its way as a link, never what the link leads to.
/// </summary>
public static class JobClean
{
    /// <param name="defaultCache">The default cache folder when the project uses it; null to keep the cache.</param>
    /// <param name="files">Files outside the job folder to delete (KoalaPicReportPath's).</param>
    /// <returns>The diagnostics: KP3001 when a build held the lock too long, KP2005 for what could not be deleted.</returns>
    public static List<Diagnostic> Run(JobLayout layout, string? defaultCache, IEnumerable<string> files, string projectFile, TimeSpan lockTimeout, CancellationToken cancellationToken = default)
    {
        var diagnostics = new List<Diagnostic>();
        if (!Directory.Exists(layout.Directory) && (defaultCache == null || !Exists(defaultCache)))
        {
            DeleteFiles(files, projectFile, diagnostics);
            return diagnostics;
        }

        BuildLock held;
        try
        {
            held = BuildLock.Acquire(layout.LockFile, lockTimeout, cancellationToken);
        }
        catch (ConcurrentBuildException ex)
        {
            diagnostics.Add(Diagnostic.Error(DiagnosticCodes.ConcurrentBuild, ex.Message, projectFile));
            return diagnostics;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(Diagnostic.Error(DiagnosticCodes.CannotWrite, $"KoalaPic: cannot clean '{layout.Directory}': {ex.Message}", projectFile));
            return diagnostics;
        }

        using (held)
        {
            // The lock file stays while it is held (Windows cannot delete an open file): everything else goes first.
            foreach (string entry in Directory.EnumerateFileSystemEntries(layout.Directory))
            {
                if (!JobLayout.SameDirectory(entry, layout.LockFile))
                {
                    Delete(entry, projectFile, diagnostics);
                }
            }

            if (defaultCache != null)
            {
                Delete(defaultCache.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar), projectFile, diagnostics);
            }

            DeleteFiles(files, projectFile, diagnostics);
        }

        Delete(layout.LockFile, projectFile, diagnostics);
        Delete(layout.Directory.TrimEnd(Path.DirectorySeparatorChar), projectFile, diagnostics);
        return diagnostics;
    }

    private static void DeleteFiles(IEnumerable<string> files, string projectFile, List<Diagnostic> diagnostics)
    {
        foreach (string file in files)
        {
            Delete(file, projectFile, diagnostics);
        }
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || IsLink(path);

    /// <summary>A file, a folder with all it holds, or a link (only the link itself).</summary>
    private static void Delete(string path, string projectFile, List<Diagnostic> diagnostics)
    {
        try
        {
            if (IsLink(path) || File.Exists(path))
            {
                var info = new FileInfo(path);
                if ((info.Attributes & FileAttributes.Directory) != 0)
                {
                    Directory.Delete(path, recursive: false); // a link to a folder: the link only
                }
                else
                {
                    File.Delete(path);
                }
            }
            else if (Directory.Exists(path))
            {
                foreach (string entry in Directory.EnumerateFileSystemEntries(path))
                {
                    Delete(entry, projectFile, diagnostics);
                }

                Directory.Delete(path, recursive: false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(Diagnostic.Error(DiagnosticCodes.CannotWrite, $"KoalaPic: dotnet clean cannot delete '{path}': {ex.Message}", projectFile));
        }
    }

    private static bool IsLink(string path)
    {
        try
        {
            return (File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false;
        }
    }
}
