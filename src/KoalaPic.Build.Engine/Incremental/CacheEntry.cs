using System;
using System.IO;
using System.IO.Hashing;
using System.Text;

namespace KoalaPic.Build.Engine;

/// <summary>
/// One file of the content-addressed cache: the encoded image, then the placeholder (<see cref="ImagePlaceholder"/>
/// as UTF-8 text <c>color\nblur</c>, empty when none was made), then a 32-byte trailer: the output's width, height
/// and smart quality's choice (<see cref="OutputFacts"/>, little-endian 32-bit numbers, -1 for no choice), the
/// placeholder's length in bytes, an XxHash64 of the key, the image, the placeholder and those numbers, and the marker
/// <c>KPCACHE3</c>. The next build trusts nothing it cannot verify: a cache entry that was truncated (a killed build
/// on a file system without atomic rename, a full disk, a bad copy of a CI cache), corrupted, or filed under another
/// key is not used, and the image is converted again. Entries of the previous format (<c>KPCACHE2</c>: no placeholder
/// part, a 28-byte trailer) are still read, as entries without a placeholder; older ones are not used.
/// </summary>
internal static class CacheEntry
{
    private const int FactsLength = 16;

    internal const int TrailerLength = FactsLength + 16;

    private static readonly byte[] Marker = Encoding.ASCII.GetBytes("KPCACHE3");

    private const int PreviousFactsLength = 12;

    private static readonly byte[] PreviousMarker = Encoding.ASCII.GetBytes("KPCACHE2");

    /// <summary>The entry's path in the cache: <c>&lt;cache&gt;/&lt;first 2 hex of key&gt;/&lt;key&gt;.&lt;ext&gt;</c>.</summary>
    public static string PathFor(string cacheDirectory, string key, ImageFormat format) =>
        Path.Combine(cacheDirectory, key.Substring(0, 2), key + ImageFormats.Extension(format));

    /// <summary>Writes the entry atomically (temporary file, then rename). The batch writes through <see cref="IOutputCache"/>.</summary>
    public static void Write(string path, string key, byte[] image, OutputFacts facts = default) =>
        AtomicFile.Write(path, Format(key, image, facts));

    internal static byte[] Format(string key, byte[] image, OutputFacts facts)
    {
        byte[] placeholder = facts.Placeholder is { } p ? Encoding.UTF8.GetBytes(p.Color + "\n" + (p.Blur ?? "")) : Array.Empty<byte>();
        int body = image.Length + placeholder.Length;
        byte[] entry = new byte[body + TrailerLength];
        Buffer.BlockCopy(image, 0, entry, 0, image.Length);
        Buffer.BlockCopy(placeholder, 0, entry, image.Length, placeholder.Length);
        WriteInt32LittleEndian(entry, body, facts.Width);
        WriteInt32LittleEndian(entry, body + 4, facts.Height);
        WriteInt32LittleEndian(entry, body + 8, facts.ChosenQuality ?? -1);
        WriteInt32LittleEndian(entry, body + 12, placeholder.Length);
        WriteUInt64LittleEndian(entry, body + FactsLength, Checksum(key, entry, body + FactsLength));
        Buffer.BlockCopy(Marker, 0, entry, body + FactsLength + 8, Marker.Length);
        return entry;
    }

    public static byte[]? TryRead(string path, string key) => TryRead(path, key, out _);

    /// <summary>The largest entry read: the cache folder may be shared, and is read only as regular files of bounded size.</summary>
    private const long MaxEntryBytes = 1L << 30;

    /// <summary>The image bytes of a verified entry, or null when it is missing, unreadable or fails verification.</summary>
    public static byte[]? TryRead(string path, string key, out OutputFacts facts)
    {
        facts = default;
        byte[]? entry = ReadFile(path);
        return entry == null ? null : Parse(entry, key, out facts);
    }

    /// <summary>The bytes of an entry file, unverified; null when it is missing or unreadable.</summary>
    internal static byte[]? ReadFile(string path)
    {
        try
        {
            return File.Exists(path) ? SourceFile.ReadAllBytes(path, MaxEntryBytes) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static byte[]? Parse(byte[] entry, string key, out OutputFacts facts)
    {
        facts = default;
        int body = entry.Length - TrailerLength;
        if (body > 0 && entry.AsSpan(body + FactsLength + 8, Marker.Length).SequenceEqual(Marker))
        {
            int placeholderLength = ReadInt32LittleEndian(entry, body + 12);
            int length = body - placeholderLength;
            if (placeholderLength < 0 || length <= 0
                || ReadUInt64LittleEndian(entry, body + FactsLength) != Checksum(key, entry, body + FactsLength))
            {
                return null;
            }

            ImagePlaceholder? placeholder = null;
            if (placeholderLength > 0)
            {
                string text = Encoding.UTF8.GetString(entry, length, placeholderLength);
                int newline = text.IndexOf('\n');
                placeholder = newline > 0
                    ? new ImagePlaceholder { Color = text.Substring(0, newline), Blur = newline + 1 < text.Length ? text.Substring(newline + 1) : null }
                    : null;
            }

            facts = Facts(entry, body) with { Placeholder = placeholder };
            return Slice(entry, length);
        }

        // The previous format: no placeholder, a 12-byte facts block.
        int previous = entry.Length - (PreviousFactsLength + 16);
        if (previous > 0
            && entry.AsSpan(previous + PreviousFactsLength + 8, PreviousMarker.Length).SequenceEqual(PreviousMarker)
            && ReadUInt64LittleEndian(entry, previous + PreviousFactsLength) == Checksum(key, entry, previous + PreviousFactsLength))
        {
            facts = Facts(entry, previous);
            return Slice(entry, previous);
        }

        return null;
    }

    private static OutputFacts Facts(byte[] entry, int offset)
    {
        int quality = ReadInt32LittleEndian(entry, offset + 8);
        return new OutputFacts(ReadInt32LittleEndian(entry, offset), ReadInt32LittleEndian(entry, offset + 4), quality >= 0 ? quality : null);
    }

    private static byte[] Slice(byte[] entry, int length)
    {
        byte[] image = new byte[length];
        Buffer.BlockCopy(entry, 0, image, 0, length);
        return image;
    }

    /// <summary>Over the key and the first <paramref name="length"/> bytes of <paramref name="entry"/>: the image, the placeholder and the facts.</summary>
    private static ulong Checksum(string key, byte[] entry, int length)
    {
        var hash = new XxHash64();
        hash.Append(Encoding.UTF8.GetBytes(key));
        hash.Append(entry.AsSpan(0, length));
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

/// <summary>What a build knows about an output besides its bytes: its size in pixels, smart quality's choice and the placeholder made with it.</summary>
public readonly record struct OutputFacts(int Width, int Height, int? ChosenQuality)
{
    public ImagePlaceholder? Placeholder { get; init; }
}
