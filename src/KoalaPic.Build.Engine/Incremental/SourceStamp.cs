using System;
using System.IO;

namespace KoalaPic.Build.Engine;

/// <summary>
/// A source file's size, last write time and, on Linux, change time and identity, taken before its bytes are read:
/// to notice a change during the build, and to let the next build skip reading and hashing an unchanged source.
/// </summary>
/// <remarks>
/// Why an unchanged stamp proves unchanged bytes (<see cref="IsSettled"/>, <see cref="SameFileAs"/>): the kernel sets a
/// file's change time to the current time on every write and every timestamp change, and no program can set it
/// (only moving the system clock could). A settled stamp's change time lies at least <see cref="RacyWindow"/> before
/// the moment the stamp was taken, so any write after that moment, even one within the same timestamp tick as the
/// last, gives a later change time. The bytes were read after the stamp; if the next build finds the same change
/// time, inode, size and write time, nothing was written since the stamp, so the bytes are those that were hashed.
/// A stamp taken within <see cref="RacyWindow"/> of the file's last change is not settled ("racy", as git calls it)
/// and the next build hashes the file again. Where the change time is unavailable (Windows, macOS, old C libraries)
/// nothing is settled and every source is hashed, as before.
/// </remarks>
internal readonly struct SourceStamp
{
    /// <summary>Larger than any file system's timestamp tick (2 s on FAT) and than the kernel's coarse-clock lag.</summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    private SourceStamp(long length, long lastWriteUtcTicks, long? changeUtcTicks, string? fileId, bool isSettled)
    {
        Length = length;
        LastWriteUtcTicks = lastWriteUtcTicks;
        ChangeUtcTicks = changeUtcTicks;
        FileId = fileId;
        IsSettled = isSettled;
    }

    public long Length { get; }

    public long LastWriteUtcTicks { get; }

    /// <summary>The status-change time (Linux ctime), or null where it cannot be read.</summary>
    public long? ChangeUtcTicks { get; }

    /// <summary>"device:inode", or null where it cannot be read.</summary>
    public string? FileId { get; }

    /// <summary>True when the file last changed well before this stamp was taken: the next build may trust it.</summary>
    public bool IsSettled { get; }

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SourceStamp Of(string path) => Of(path, DateTime.UtcNow - RacyWindow);

    /// <param name="settledBefore">A change time before this instant counts as settled (tests pass their own).</param>
    public static SourceStamp Of(string path, DateTime settledBefore)
    {
        // The clock is read before the file: a write after this point cannot carry a change time before it.
        long settledBeforeTicks = settledBefore.Ticks;
        var change = FileChangeTime.Of(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException("The source file does not exist.", path);
        }

        return new SourceStamp(
            info.Length,
            info.LastWriteTimeUtc.Ticks,
            change?.ChangeUtcTicks,
            change?.FileId,
            change is { } c && c.ChangeUtcTicks < settledBeforeTicks);
    }

    /// <summary>The stamp a record holds (only settled stamps are recorded).</summary>
    public static SourceStamp Recorded(long length, long lastWriteUtcTicks, long changeUtcTicks, string fileId) =>
        new(length, lastWriteUtcTicks, changeUtcTicks, fileId, isSettled: true);

    /// <summary>True when both stamps have a change time and every field is equal: no write happened in between.</summary>
    public bool SameFileAs(SourceStamp other) =>
        ChangeUtcTicks is long change && other.ChangeUtcTicks == change
        && FileId != null && string.Equals(FileId, other.FileId, StringComparison.Ordinal)
        && Length == other.Length && LastWriteUtcTicks == other.LastWriteUtcTicks;

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

            // Read no more than was read before: a larger file has changed, whatever it now is.
            return SourceFile.ReadAllBytes(path, read.Length).AsSpan().SequenceEqual(read) ? null : "changed";
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
