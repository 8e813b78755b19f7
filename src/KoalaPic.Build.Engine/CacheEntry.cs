using System;
using System.IO;
using System.IO.Hashing;
using System.Text;

namespace KoalaPic.Build.Engine;

/// <summary>
/// One file of the content-addressed cache: the encoded image followed by a 16-byte trailer, an XxHash64 of the key and
/// the image bytes, then the marker <c>KPCACHE1</c>. The next build trusts nothing it cannot verify: a cache entry
/// that was truncated (a killed build on a file system without atomic rename, a full disk, a bad copy of a CI cache),
/// corrupted, written by an older KoalaPic, or filed under another key is not used, and the image is converted again.
/// </summary>
internal static class CacheEntry
{
    internal const int TrailerLength = 16;

    private static readonly byte[] Marker = Encoding.ASCII.GetBytes("KPCACHE1");

    /// <summary>The entry's path in the cache: <c>&lt;cache&gt;/&lt;first 2 hex of key&gt;/&lt;key&gt;.&lt;ext&gt;</c>.</summary>
    public static string PathFor(string cacheDirectory, string key, ImageFormat format) =>
        Path.Combine(cacheDirectory, key.Substring(0, 2), key + ImageFormats.Extension(format));

    /// <summary>Writes the entry atomically (temporary file, then rename).</summary>
    public static void Write(string path, string key, byte[] image)
    {
        byte[] entry = new byte[image.Length + TrailerLength];
        Buffer.BlockCopy(image, 0, entry, 0, image.Length);
        WriteUInt64LittleEndian(entry, image.Length, Checksum(key, image, image.Length));
        Buffer.BlockCopy(Marker, 0, entry, image.Length + 8, Marker.Length);
        AtomicFile.Write(path, entry);
    }

    /// <summary>The image bytes of a verified entry, or null when it is missing, unreadable or fails verification.</summary>
    public static byte[]? TryRead(string path, string key)
    {
        byte[] entry;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            entry = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        int length = entry.Length - TrailerLength;
        if (length <= 0
            || !entry.AsSpan(length + 8, Marker.Length).SequenceEqual(Marker)
            || ReadUInt64LittleEndian(entry, length) != Checksum(key, entry, length))
        {
            return null;
        }

        byte[] image = new byte[length];
        Buffer.BlockCopy(entry, 0, image, 0, length);
        return image;
    }

    private static ulong Checksum(string key, byte[] image, int length)
    {
        var hash = new XxHash64();
        hash.Append(Encoding.UTF8.GetBytes(key));
        hash.Append(image.AsSpan(0, length));
        return hash.GetCurrentHashAsUInt64();
    }

    private static void WriteUInt64LittleEndian(byte[] buffer, int offset, ulong value)
    {
        for (int i = 0; i < 8; i++)
        {
            buffer[offset + i] = (byte)(value >> (8 * i));
        }
    }

    private static ulong ReadUInt64LittleEndian(byte[] buffer, int offset)
    {
        ulong value = 0;
        for (int i = 0; i < 8; i++)
        {
            value |= (ulong)buffer[offset + i] << (8 * i);
        }

        return value;
    }
}
