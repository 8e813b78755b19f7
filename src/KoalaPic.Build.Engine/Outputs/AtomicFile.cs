using System;
using System.IO;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Writes that are never seen half-done: bytes go to a temporary file beside the target, which is then renamed over
/// it, so a build killed at any moment leaves the old file or the new one. Writers that own a folder whose every file
/// must be whole (obj/…/koalapic/out) give a temporary folder beside it on the same disk, so not even the temporary
/// file is ever seen there.
/// </summary>
public static class AtomicFile
{
    private const string TemporarySuffix = ".tmp";

    /// <summary>Writes <paramref name="bytes"/> unless the file already holds exactly them. Returns whether it wrote.</summary>
    /// <param name="temporaryDirectory">Where the temporary file is written (on the same disk); null for beside the target.</param>
    public static bool WriteIfChanged(string path, byte[] bytes, string? temporaryDirectory = null)
    {
        if (HasContent(path, bytes))
        {
            return false;
        }

        Write(path, bytes, temporaryDirectory);
        return true;
    }

    /// <param name="temporaryDirectory">Where the temporary file is written (on the same disk); null for beside the target.</param>
    public static void Write(string path, byte[] bytes, string? temporaryDirectory = null)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        string temporaryFolder = temporaryDirectory ?? directory;
        Directory.CreateDirectory(temporaryFolder);
        // Unique per writer (process and thread): concurrent builds sharing a cache each write their own file.
        string temporary = Path.Combine(temporaryFolder, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + TemporarySuffix);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
            {
                stream.Write(bytes, 0, bytes.Length);
            }

            Replace(temporary, path);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>True for the name of a temporary file this class writes: <c>.&lt;name&gt;.&lt;8 hex&gt;.tmp</c>.</summary>
    public static bool IsTemporaryName(string fileName)
    {
        // "." + at least one character + "." + 8 hex + ".tmp"
        int hexStart = fileName.Length - TemporarySuffix.Length - 8;
        if (fileName.Length < 1 + 1 + 1 + 8 + TemporarySuffix.Length || fileName[0] != '.'
            || !fileName.EndsWith(TemporarySuffix, StringComparison.Ordinal) || fileName[hexStart - 1] != '.')
        {
            return false;
        }

        for (int i = hexStart; i < hexStart + 8; i++)
        {
            char c = fileName[i];
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when the path is a regular file holding exactly <paramref name="bytes"/>. Never reads more than their
    /// length, and never reads a link to a device or FIFO planted in its place (that is replaced, not read).
    /// </summary>
    public static bool HasContent(string path, byte[] bytes)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return false;
        }

        try
        {
            return SourceFile.ReadAllBytes(path, bytes.Length).AsSpan().SequenceEqual(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void Replace(string source, string destination)
    {
#if NETFRAMEWORK
        if (File.Exists(destination))
        {
            File.Replace(source, destination, null);
            return;
        }

        File.Move(source, destination);
#else
        File.Move(source, destination, overwrite: true);
#endif
    }
}
