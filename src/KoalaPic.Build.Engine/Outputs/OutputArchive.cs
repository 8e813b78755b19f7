using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// One ZIP of all outputs (KoalaPicZipPath), the build's "download all". Deterministic: entries sorted by path
/// (ordinal), every timestamp 1980-01-01 00:00, no file attributes, and stored rather than deflated, so the same
/// outputs give the same bytes on every machine and runtime (deflate's bytes depend on the zlib a runtime carries,
/// and the images are compressed already). The file is rewritten only when those bytes change.
/// </summary>
public static class OutputArchive
{
    /// <summary>The earliest time a ZIP entry can hold (MS-DOS date), the same for everyone.</summary>
    private static readonly DateTimeOffset FixedTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The archive's bytes.</summary>
    /// <param name="entries">Each output's path in the archive ('/'-separated, relative) and its file.</param>
    public static byte[] Create(IEnumerable<(string EntryPath, string File)> entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (entryPath, file) in entries
                         .Select(e => (EntryPath: e.EntryPath.Replace('\\', '/'), e.File))
                         .GroupBy(e => e.EntryPath, StringComparer.Ordinal)
                         .Select(g => g.First())
                         .OrderBy(e => e.EntryPath, StringComparer.Ordinal))
            {
                ZipArchiveEntry entry = zip.CreateEntry(entryPath, CompressionLevel.NoCompression);
                entry.LastWriteTime = FixedTime;
                entry.ExternalAttributes = 0;
                using Stream target = entry.Open();
                byte[] bytes = File.ReadAllBytes(file);
                target.Write(bytes, 0, bytes.Length);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Writes the archive unless the file already holds exactly these bytes. Returns whether it wrote.</summary>
    public static bool Write(string zipPath, IEnumerable<(string EntryPath, string File)> entries) =>
        AtomicFile.WriteIfChanged(zipPath, Create(entries));
}
