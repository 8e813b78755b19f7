using System;
using System.IO;

namespace KoalaPic.Build.Engine;

/// <summary>A source file's size and last write time, taken before its bytes are read, to notice a change during the build.</summary>
internal readonly struct SourceStamp
{
    private SourceStamp(long length, long lastWriteUtcTicks)
    {
        Length = length;
        LastWriteUtcTicks = lastWriteUtcTicks;
    }

    public long Length { get; }

    public long LastWriteUtcTicks { get; }

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SourceStamp Of(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException("The source file does not exist.", path);
        }

        return new SourceStamp(info.Length, info.LastWriteTimeUtc.Ticks);
    }

    /// <summary>
    /// Null when <paramref name="path"/> still holds <paramref name="read"/>; otherwise "changed" or "was deleted".
    /// The size and time are compared first; only when they differ are the bytes read again, so touching a file
    /// (same bytes, new time) is no change.
    /// </summary>
    public static string? DescribeChange(string path, SourceStamp before, byte[] read)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return "was deleted";
            }

            if (info.Length == before.Length && info.LastWriteTimeUtc.Ticks == before.LastWriteUtcTicks && info.Length == read.Length)
            {
                return null;
            }

            return File.ReadAllBytes(path).AsSpan().SequenceEqual(read) ? null : "changed";
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return "was deleted";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "changed";
        }
    }
}
