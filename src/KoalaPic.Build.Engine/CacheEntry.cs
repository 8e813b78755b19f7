using System;
using System.IO;
using System.IO.Hashing;
using System.Text;

namespace KoalaPic.Build.Engine;

/// <summary>
/// One file of the content-addressed cache: the encoded image followed by a 28-byte trailer: the output's width, height
/// and smart quality's choice (<see cref="OutputFacts"/>, three little-endian 32-bit numbers, -1 for no choice), an
/// XxHash64 of the key, the image bytes and those facts, then the marker <c>KPCACHE2</c>. The next build trusts nothing it cannot verify: a cache entry
/// that was truncated (a killed build on a file system without atomic rename, a full disk, a bad copy of a CI cache),
/// corrupted, written by an older KoalaPic, or filed under another key is not used, and the image is converted again.
/// </summary>
internal static class CacheEntry
{
    private const int FactsLength = 12;

    internal const int TrailerLength = FactsLength + 16;

    private static readonly byte[] Marker = Encoding.ASCII.GetBytes("KPCACHE2");

    /// <summary>The entry's path in the cache: <c>&lt;cache&gt;/&lt;first 2 hex of key&gt;/&lt;key&gt;.&lt;ext&gt;</c>.</summary>
    public static string PathFor(string cacheDirectory, string key, ImageFormat format) =>
        Path.Combine(cacheDirectory, key.Substring(0, 2), key + ImageFormats.Extension(format));

    /// <summary>Writes the entry atomically (temporary file, then rename).</summary>
    public static void Write(string path, string key, byte[] image, OutputFacts facts = default)
    {
        byte[] entry = new byte[image.Length + TrailerLength];
        Buffer.BlockCopy(image, 0, entry, 0, image.Length);
        WriteInt32LittleEndian(entry, image.Length, facts.Width);
        WriteInt32LittleEndian(entry, image.Length + 4, facts.Height);
        WriteInt32LittleEndian(entry, image.Length + 8, facts.ChosenQuality ?? -1);
        WriteUInt64LittleEndian(entry, image.Length + FactsLength, Checksum(key, entry, image.Length));
        Buffer.BlockCopy(Marker, 0, entry, image.Length + FactsLength + 8, Marker.Length);
        AtomicFile.Write(path, entry);
    }

    public static byte[]? TryRead(string path, string key) => TryRead(path, key, out _);

    /// <summary>The image bytes of a verified entry, or null when it is missing, unreadable or fails verification.</summary>
    public static byte[]? TryRead(string path, string key, out OutputFacts facts)
    {
        facts = default;
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
            || !entry.AsSpan(length + FactsLength + 8, Marker.Length).SequenceEqual(Marker)
            || ReadUInt64LittleEndian(entry, length + FactsLength) != Checksum(key, entry, length))
        {
            return null;
        }

        int quality = ReadInt32LittleEndian(entry, length + 8);
        facts = new OutputFacts(ReadInt32LittleEndian(entry, length), ReadInt32LittleEndian(entry, length + 4), quality >= 0 ? quality : null);

        byte[] image = new byte[length];
        Buffer.BlockCopy(entry, 0, image, 0, length);
        return image;
    }

    /// <summary>Over the key, the image (<paramref name="length"/> bytes of <paramref name="entry"/>) and the facts after it.</summary>
    private static ulong Checksum(string key, byte[] entry, int length)
    {
        var hash = new XxHash64();
        hash.Append(Encoding.UTF8.GetBytes(key));
        hash.Append(entry.AsSpan(0, length + FactsLength));
        return hash.GetCurrentHashAsUInt64();
    }

    private static void WriteInt32LittleEndian(byte[] buffer, int offset, int value)
    {
        for (int i = 0; i < 4; i++)
        {
            buffer[offset + i] = (byte)(value >> (8 * i));
        }
    }

    private static int ReadInt32LittleEndian(byte[] buffer, int offset) =>
        buffer[offset] | (buffer[offset + 1] << 8) | (buffer[offset + 2] << 16) | (buffer[offset + 3] << 24);

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

/// <summary>What a build knows about an output besides its bytes: its size in pixels and smart quality's choice.</summary>
public readonly record struct OutputFacts(int Width, int Height, int? ChosenQuality);
