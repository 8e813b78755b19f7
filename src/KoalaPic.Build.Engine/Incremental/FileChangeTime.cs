using System;
using System.Runtime.InteropServices;

namespace KoalaPic.Build.Engine;

/// <summary>
/// A file's status-change time (ctime) and identity (device and inode) on Linux, which .NET does not expose.
/// Unlike the last write time, ctime cannot be set by a program: the kernel sets it to the current time on every
/// write, truncate, rename, chmod and on every change of the timestamps themselves (touch -d, File.SetLastWriteTime).
/// So a file whose ctime and inode are unchanged has not been written since. See <see cref="SourceStamp"/>.
/// </summary>
internal static class FileChangeTime
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7FF;
    private const uint StatxCtime = 0x80;
    private const uint StatxIno = 0x100;
    private static bool unavailable = !RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    /// <summary>The change time (UTC ticks) and "device:inode", or null where they cannot be read (not Linux, no statx).</summary>
    public static (long ChangeUtcTicks, string FileId)? Of(string path)
    {
        if (unavailable)
        {
            return null;
        }

        // struct statx has one layout on every Linux architecture (linux/stat.h), unlike struct stat.
        var buffer = new byte[256];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // A C library older than glibc 2.28 or musl 1.2.5: fall back to hashing every source.
            unavailable = true;
            return null;
        }

        uint mask = BitConverter.ToUInt32(buffer, 0);
        if ((mask & (StatxCtime | StatxIno)) != (StatxCtime | StatxIno))
        {
            return null;
        }

        ulong inode = BitConverter.ToUInt64(buffer, 32);
        long seconds = BitConverter.ToInt64(buffer, 96);
        uint nanoseconds = BitConverter.ToUInt32(buffer, 104);
        uint deviceMajor = BitConverter.ToUInt32(buffer, 136);
        uint deviceMinor = BitConverter.ToUInt32(buffer, 140);
        long ticks = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcTicks + (nanoseconds / 100);
        return (ticks, $"{deviceMajor}:{deviceMinor}:{inode}");
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
}
