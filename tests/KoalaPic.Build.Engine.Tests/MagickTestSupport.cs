using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Independent readers for what ImageMagick writes (ICO directories, BMP and DIB pixels), ISO-BMFF edits for HEIC
/// test inputs, and the system tools the Magick tests use: libheif's heif-enc and poppler's pdfinfo/pdftoppm.
/// </summary>
internal static class MagickTestSupport
{
    public const string HeifEncMissing = "libheif's heif-enc (with its x265 HEVC encoder) is missing: install the Debian package libheif-examples";
    public const string PopplerMissing = "poppler's pdfinfo, pdfimages and pdftoppm are missing: install the Debian package poppler-utils";

    /// <summary>One image of an .ico, as its directory entry describes it, with its stored bytes.</summary>
    public sealed record IcoEntry(int Width, int Height, int BitCount, byte[] Data)
    {
        public bool IsPng => Data.Length >= 8 && Data.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A });
    }

    /// <summary>Parses an ICONDIR and its entries (a width or height byte of 0 means 256).</summary>
    public static List<IcoEntry> ReadIco(byte[] ico)
    {
        Assert.True(ico.Length >= 6, "ico shorter than its header");
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(ico.AsSpan(0)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(ico.AsSpan(2)));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(ico.AsSpan(4));
        var entries = new List<IcoEntry>();
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> entry = ico.AsSpan(6 + (16 * i), 16);
            int width = entry[0] == 0 ? 256 : entry[0];
            int height = entry[1] == 0 ? 256 : entry[1];
            int bitCount = BinaryPrimitives.ReadUInt16LittleEndian(entry.Slice(6));
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(entry.Slice(8));
            int offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(entry.Slice(12));
            Assert.InRange(offset + (long)size, 0, ico.Length);
            entries.Add(new IcoEntry(width, height, bitCount, ico.AsSpan(offset, size).ToArray()));
        }

        return entries;
    }

    /// <summary>
    /// Decodes the 32-bit DIB of an .ico entry (BITMAPINFOHEADER with the height doubled for the AND mask, BGRA rows
    /// bottom-up) into an 8-bit RGBA image.
    /// </summary>
    public static Image DecodeIcoDib(byte[] dib, int width, int height)
    {
        Assert.Equal(40, BinaryPrimitives.ReadInt32LittleEndian(dib));
        Assert.Equal(width, BinaryPrimitives.ReadInt32LittleEndian(dib.AsSpan(4)));
        Assert.Equal(2 * height, BinaryPrimitives.ReadInt32LittleEndian(dib.AsSpan(8)));
        Assert.Equal(32, BinaryPrimitives.ReadUInt16LittleEndian(dib.AsSpan(14)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(dib.AsSpan(16)));
        int andStride = ((width + 31) / 32) * 4;
        Assert.Equal(40 + (width * 4 * height) + (andStride * height), dib.Length);
        return FromBottomUpBgr(dib.AsSpan(40), width, height, bytesPerPixel: 4, stride: width * 4);
    }

    /// <summary>A decoded BMP: its header fields and its pixels as 8-bit RGB or RGBA.</summary>
    public sealed record Bmp(int HeaderSize, int BitCount, int Compression, uint AlphaMask, Image Pixels);

    /// <summary>
    /// Decodes a BMP file written as 24-bit BI_RGB or 32-bit BI_BITFIELDS with BGRA masks, bottom-up, checking the
    /// file header's size and pixel offset.
    /// </summary>
    public static Bmp ReadBmp(byte[] bmp)
    {
        Assert.Equal((byte)'B', bmp[0]);
        Assert.Equal((byte)'M', bmp[1]);
        Assert.Equal(bmp.Length, (int)BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(2)));
        int pixelOffset = (int)BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(10));
        ReadOnlySpan<byte> info = bmp.AsSpan(14);
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(info);
        int width = BinaryPrimitives.ReadInt32LittleEndian(info.Slice(4));
        int height = BinaryPrimitives.ReadInt32LittleEndian(info.Slice(8));
        Assert.True(height > 0, "expected a bottom-up BMP");
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(info.Slice(12)));
        int bitCount = BinaryPrimitives.ReadUInt16LittleEndian(info.Slice(14));
        int compression = BinaryPrimitives.ReadInt32LittleEndian(info.Slice(16));
        uint alphaMask = 0;
        if (compression == 3)
        {
            Assert.True(headerSize >= 108, "BI_BITFIELDS with alpha needs a V4 or V5 header");
            Assert.Equal(0x00FF0000u, BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(40)));
            Assert.Equal(0x0000FF00u, BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(44)));
            Assert.Equal(0x000000FFu, BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(48)));
            alphaMask = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(52));
        }
        else
        {
            Assert.Equal(0, compression);
        }

        int bytesPerPixel = bitCount / 8;
        int stride = ((width * bitCount) + 31) / 32 * 4;
        Assert.Equal(pixelOffset + ((long)stride * height), bmp.Length);
        Image pixels = FromBottomUpBgr(bmp.AsSpan(pixelOffset), width, height, bytesPerPixel, stride);
        return new Bmp(headerSize, bitCount, compression, alphaMask, pixels);
    }

    private static Image FromBottomUpBgr(ReadOnlySpan<byte> rows, int width, int height, int bytesPerPixel, int stride)
    {
        var pixels = new byte[width * height * bytesPerPixel];
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = rows.Slice((height - 1 - y) * stride, width * bytesPerPixel);
            for (int x = 0; x < width; x++)
            {
                int source = x * bytesPerPixel;
                int target = ((y * width) + x) * bytesPerPixel;
                pixels[target] = row[source + 2];
                pixels[target + 1] = row[source + 1];
                pixels[target + 2] = row[source];
                if (bytesPerPixel == 4)
                {
                    pixels[target + 3] = row[source + 3];
                }
            }
        }

        return Image.NewFromMemoryCopy<byte>(pixels, width, height, bytesPerPixel, Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Srgb);
    }

    /// <summary>libvips' thumbnail of a corpus image, held in memory.</summary>
    public static Image Thumbnail(string fixture, int width)
    {
        using Image thumbnail = Image.ThumbnailBuffer(TestSupport.FixtureBytes(fixture), width);
        return thumbnail.CopyMemory();
    }

    // --- system tools -------------------------------------------------------------------------------------------

    public static bool HeifEncAvailable => SystemRequirement.FindOnPath("heif-enc") != null;

    public static bool PopplerAvailable => new[] { "pdfinfo", "pdfimages", "pdftoppm" }.All(tool => SystemRequirement.FindOnPath(tool) != null);

    /// <summary>Encodes a JPEG or PNG to HEIC (HEVC) with heif-enc, as a phone would have written it.</summary>
    public static byte[] HeifEnc(string sourcePath, TempFolder folder, params string[] options)
    {
        string output = folder.Combine(Guid.NewGuid().ToString("N") + ".heic");
        Run("heif-enc", options.Concat(new[] { "-q", "90", "-o", output, sourcePath }).ToArray());
        byte[] heic = File.ReadAllBytes(output);
        Assert.Equal("ftyp", Encoding.ASCII.GetString(heic, 4, 4));
        Assert.Equal("heic", Encoding.ASCII.GetString(heic, 8, 4));
        return heic;
    }

    /// <summary>pdfinfo's "Key: value" lines.</summary>
    public static Dictionary<string, string> PdfInfo(string pdfPath)
    {
        string text = Run("pdfinfo", pdfPath);
        return text.Split('\n')
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim());
    }

    /// <summary>
    /// Renders page 1 at 72 dpi (one pixel per point) with poppler and decodes it with libvips. Poppler resamples the
    /// image while drawing it (about half a pixel off), so a render is close to the image, not equal to it.
    /// </summary>
    public static Image RenderPdfPage(string pdfPath, TempFolder folder)
    {
        string prefix = folder.Combine("page-" + Guid.NewGuid().ToString("N"));
        Run("pdftoppm", "-r", "72", "-png", "-singlefile", pdfPath, prefix);
        return Image.NewFromBuffer(File.ReadAllBytes(prefix + ".png")).CopyMemory();
    }

    /// <summary>The page's one embedded image, extracted by poppler without resampling, decoded by libvips.</summary>
    public static Image ExtractPdfImage(string pdfPath, TempFolder folder)
    {
        string list = Run("pdfimages", "-list", pdfPath);
        string[] rows = list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).ToArray();
        Assert.True(rows.Length == 1, $"expected one image in the PDF, pdfimages lists:\n{list}");
        string prefix = folder.Combine("image-" + Guid.NewGuid().ToString("N"));
        Run("pdfimages", "-png", pdfPath, prefix);
        return Image.NewFromBuffer(File.ReadAllBytes(prefix + "-000.png")).CopyMemory();
    }

    public static string Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), $"{tool} did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(" ", arguments)} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}

/// <summary>
/// Minimal ISO-BMFF (HEIF) surgery for hostile and unusual test inputs: rewrite the image size in 'ispe', or give the
/// primary item an 'irot' rotation as phones do, re-serialising the boxes and moving 'iloc' offsets accordingly.
/// </summary>
internal static class HeifBoxes
{
    private sealed class Box
    {
        public required string Type { get; init; }

        /// <summary>Version and flags of a full box that has children (meta).</summary>
        public byte[]? FullBoxHeader { get; init; }

        public List<Box>? Children { get; init; }

        public byte[] Payload { get; set; } = Array.Empty<byte>();

        public int Size => 8 + (FullBoxHeader?.Length ?? 0) + (Children?.Sum(c => c.Size) ?? Payload.Length);
    }

    private static readonly HashSet<string> Containers = new() { "meta", "iprp", "ipco" };

    /// <summary>The same file with every 'ispe' (image spatial extents) saying width x height.</summary>
    public static byte[] WithImageSize(byte[] heic, uint width, uint height)
    {
        List<Box> boxes = Parse(heic, 0, heic.Length);
        int patched = 0;
        foreach (Box ispe in All(boxes).Where(b => b.Type == "ispe"))
        {
            // Full box: version and flags, then 32-bit width and height.
            BinaryPrimitives.WriteUInt32BigEndian(ispe.Payload.AsSpan(4), width);
            BinaryPrimitives.WriteUInt32BigEndian(ispe.Payload.AsSpan(8), height);
            patched++;
        }

        Assert.True(patched > 0, "no ispe box found");
        return Serialize(boxes);
    }

    /// <summary>The same file with an essential 'irot' property (quarter turns anticlockwise) on the primary item.</summary>
    public static byte[] WithRotation(byte[] heic, int quarterTurnsAnticlockwise)
    {
        List<Box> boxes = Parse(heic, 0, heic.Length);
        Box meta = boxes.Single(b => b.Type == "meta");
        int oldMetaEnd = Offset(boxes, meta) + meta.Size;
        int oldMetaSize = meta.Size;

        Box pitm = meta.Children!.Single(b => b.Type == "pitm");
        uint primary = pitm.Payload[0] == 0 ? BinaryPrimitives.ReadUInt16BigEndian(pitm.Payload.AsSpan(4)) : BinaryPrimitives.ReadUInt32BigEndian(pitm.Payload.AsSpan(4));
        Box iprp = meta.Children!.Single(b => b.Type == "iprp");
        Box ipco = iprp.Children!.Single(b => b.Type == "ipco");
        Box ipma = iprp.Children!.Single(b => b.Type == "ipma");

        ipco.Children!.Add(new Box { Type = "irot", Payload = new[] { (byte)(quarterTurnsAnticlockwise & 3) } });
        ipma.Payload = WithAssociation(ipma.Payload, primary, ipco.Children.Count);

        int shift = meta.Size - oldMetaSize;
        Box iloc = meta.Children!.Single(b => b.Type == "iloc");
        ShiftIlocOffsets(iloc.Payload, oldMetaEnd, shift);
        return Serialize(boxes);
    }

    private static byte[] WithAssociation(byte[] ipma, uint item, int propertyIndex)
    {
        byte version = ipma[0];
        bool wideIndex = (ipma[3] & 1) != 0;
        int entries = (int)BinaryPrimitives.ReadUInt32BigEndian(ipma.AsSpan(4));
        int position = 8;
        var result = new List<byte>(ipma.AsSpan(0, 8).ToArray());
        bool found = false;
        for (int i = 0; i < entries; i++)
        {
            int idSize = version < 1 ? 2 : 4;
            uint id = idSize == 2 ? BinaryPrimitives.ReadUInt16BigEndian(ipma.AsSpan(position)) : BinaryPrimitives.ReadUInt32BigEndian(ipma.AsSpan(position));
            int count = ipma[position + idSize];
            int associationsSize = count * (wideIndex ? 2 : 1);
            result.AddRange(ipma.AsSpan(position, idSize).ToArray());
            if (id == item)
            {
                found = true;
                result.Add((byte)(count + 1));
                result.AddRange(ipma.AsSpan(position + idSize + 1, associationsSize).ToArray());
                if (wideIndex)
                {
                    result.Add((byte)(0x80 | (propertyIndex >> 8)));
                    result.Add((byte)propertyIndex);
                }
                else
                {
                    result.Add((byte)(0x80 | propertyIndex));
                }
            }
            else
            {
                result.AddRange(ipma.AsSpan(position + idSize, 1 + associationsSize).ToArray());
            }

            position += idSize + 1 + associationsSize;
        }

        Assert.True(found, "primary item has no ipma entry");
        return result.ToArray();
    }

    /// <summary>Moves every file offset in 'iloc' that points past the old end of 'meta' by <paramref name="shift"/>.</summary>
    private static void ShiftIlocOffsets(byte[] iloc, int oldMetaEnd, int shift)
    {
        byte version = iloc[0];
        int offsetSize = iloc[4] >> 4;
        int lengthSize = iloc[4] & 0xF;
        int baseOffsetSize = iloc[5] >> 4;
        int indexSize = version is 1 or 2 ? iloc[5] & 0xF : 0;
        int position = 6;
        int items = version < 2 ? BinaryPrimitives.ReadUInt16BigEndian(iloc.AsSpan(position)) : (int)BinaryPrimitives.ReadUInt32BigEndian(iloc.AsSpan(position));
        position += version < 2 ? 2 : 4;
        for (int i = 0; i < items; i++)
        {
            position += version < 2 ? 2 : 4;
            int constructionMethod = 0;
            if (version is 1 or 2)
            {
                constructionMethod = BinaryPrimitives.ReadUInt16BigEndian(iloc.AsSpan(position)) & 0xF;
                position += 2;
            }

            position += 2;
            long baseOffset = ReadSized(iloc, position, baseOffsetSize);
            bool shiftBase = constructionMethod == 0 && baseOffsetSize > 0 && baseOffset >= oldMetaEnd;
            if (shiftBase)
            {
                WriteSized(iloc, position, baseOffsetSize, baseOffset + shift);
            }

            position += baseOffsetSize;
            int extents = BinaryPrimitives.ReadUInt16BigEndian(iloc.AsSpan(position));
            position += 2;
            for (int e = 0; e < extents; e++)
            {
                position += indexSize;
                long offset = ReadSized(iloc, position, offsetSize);
                if (constructionMethod == 0 && !shiftBase && baseOffset + offset >= oldMetaEnd)
                {
                    WriteSized(iloc, position, offsetSize, offset + shift);
                }

                position += offsetSize + lengthSize;
            }
        }
    }

    private static long ReadSized(byte[] data, int position, int size) => size switch
    {
        0 => 0,
        4 => BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position)),
        8 => (long)BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(position)),
        _ => throw new NotSupportedException($"iloc field size {size}"),
    };

    private static void WriteSized(byte[] data, int position, int size, long value)
    {
        if (size == 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(position), checked((uint)value));
        }
        else if (size == 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(position), (ulong)value);
        }
    }

    private static List<Box> Parse(byte[] data, int start, int end)
    {
        var boxes = new List<Box>();
        int position = start;
        while (position + 8 <= end)
        {
            int size = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position));
            string type = Encoding.ASCII.GetString(data, position + 4, 4);
            Assert.True(size >= 8 && position + size <= end, $"box '{type}' has size {size}; 64-bit and to-end sizes are not supported here");
            if (Containers.Contains(type))
            {
                int headerExtra = type == "meta" ? 4 : 0;
                boxes.Add(new Box
                {
                    Type = type,
                    FullBoxHeader = headerExtra > 0 ? data.AsSpan(position + 8, 4).ToArray() : null,
                    Children = Parse(data, position + 8 + headerExtra, position + size),
                });
            }
            else
            {
                boxes.Add(new Box { Type = type, Payload = data.AsSpan(position + 8, size - 8).ToArray() });
            }

            position += size;
        }

        return boxes;
    }

    private static IEnumerable<Box> All(IEnumerable<Box> boxes) =>
        boxes.SelectMany(b => new[] { b }.Concat(b.Children is null ? Enumerable.Empty<Box>() : All(b.Children)));

    private static int Offset(List<Box> topLevel, Box box) => topLevel.TakeWhile(b => !ReferenceEquals(b, box)).Sum(b => b.Size);

    private static byte[] Serialize(List<Box> boxes)
    {
        var stream = new MemoryStream();
        foreach (Box box in boxes)
        {
            Write(stream, box);
        }

        return stream.ToArray();
    }

    private static void Write(Stream stream, Box box)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)box.Size);
        Encoding.ASCII.GetBytes(box.Type, header.Slice(4));
        stream.Write(header);
        if (box.Children != null)
        {
            stream.Write(box.FullBoxHeader ?? Array.Empty<byte>());
            foreach (Box child in box.Children)
            {
                Write(stream, child);
            }
        }
        else
        {
            stream.Write(box.Payload);
        }
    }
}
