using System;
using System.IO;
using System.Runtime.InteropServices;

namespace KoalaPic.Build.Engine;

/// <summary>A source that is refused before a byte of it is read: not a regular file, or larger than the cap.</summary>
public sealed class SourceRefusedException : IOException
{
    public SourceRefusedException(string code, string reason) : base(reason)
    {
        Code = code;
    }

    /// <summary><see cref="DiagnosticCodes.NotARegularFile"/> or <see cref="DiagnosticCodes.SourceTooLarge"/>.</summary>
    public string Code { get; }
}

/// <summary>
/// Reads files that KoalaPic did not write (sources, and files in folders a checkout controls) only when they are
/// regular files after following links, and never more than a bound: a FIFO, /dev/stdin or /dev/zero behind an
/// image's name would otherwise block the build or read until memory runs out.
/// </summary>
public static class SourceFile
{
    /// <summary>KoalaPicMaxSourceBytes' default: 256 MiB, four times the largest camera RAW-to-TIFF export in common use.</summary>
    public const long DefaultMaxBytes = 256L * 1024 * 1024;

    /// <summary>The bytes of a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="SourceRefusedException">Not a regular file, or larger than <paramref name="maxBytes"/>; nothing was read.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist (also a dangling link).</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        CheckRegular(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        long length = stream.CanSeek ? stream.Length : throw NotRegular(path, "a stream without a length");
        if (length > maxBytes)
        {
            throw new SourceRefusedException(
                DiagnosticCodes.SourceTooLarge,
                $"is {length:N0} bytes, over the limit of {maxBytes:N0} (KoalaPicMaxSourceBytes)");
        }

        // Exactly the length seen at open, never more: a file that grows meanwhile is caught by the caller's
        // change check (SourceStamp), not read without end.
        var bytes = new byte[length];
        int read = 0;
        while (read < bytes.Length)
        {
            int n = stream.Read(bytes, read, bytes.Length - read);
            if (n == 0)
            {
                Array.Resize(ref bytes, read);
                break;
            }

            read += n;
        }

        return bytes;
    }

    /// <exception cref="SourceRefusedException">The path, after following links, is not a regular file.</exception>
    /// <exception cref="FileNotFoundException">It does not exist.</exception>
    public static void CheckRegular(string path)
    {
        string? kind = NonRegularKind(path);
        if (kind != null)
        {
            throw NotRegular(path, kind);
        }
    }

    private static SourceRefusedException NotRegular(string path, string kind) =>
        new(DiagnosticCodes.NotARegularFile, $"is not a regular file but {kind}{LinkNote(path)}; KoalaPic reads only regular files, so it was not opened");

    private static string LinkNote(string path)
    {
#if NET
        try
        {
            FileSystemInfo? target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
            return target != null ? $" (a link to '{target.FullName}')" : "";
        }
        catch (IOException)
        {
            return "";
        }
#else
        return "";
#endif
    }

    /// <summary>Null for a regular file; otherwise what it is ("a FIFO (named pipe)", "a character device", …).</summary>
    private static string? NonRegularKind(string path)
    {
        if (Directory.Exists(path))
        {
            return "a folder";
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException("The source file does not exist.", path);
        }

        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            // Windows has no FIFOs or device files on ordinary paths; device names (CON, NUL) are not files at all.
            return (File.GetAttributes(path) & FileAttributes.Device) != 0 ? "a device" : null;
        }

        int? mode = UnixFileType(path);
        return mode switch
        {
            null => null,
            0x8000 => null,
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            0x4000 => "a folder",
            _ => "a special file",
        };
    }

    /// <summary>
    /// The S_IFMT bits of stat(2) (following links), through the .NET runtime's own native shim, which every .NET on
    /// Unix ships and whose FileStatus keeps Mode at offset 4 (Flags first); the BCL has no public call for the file
    /// type. Null when the shim cannot be called (then only folders are refused).
    /// </summary>
    private static int? UnixFileType(string path)
    {
        var status = new byte[256]; // larger than FileStatus in any .NET version
        try
        {
            return SystemNativeStat(path, status) == 0 ? BitConverter.ToInt32(status, 4) & 0xF000 : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int SystemNativeStat(string path, byte[] status);
}
