using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KoalaPic.Build.Tests;

/// <summary>
/// Hostile inputs, generated rather than committed: decompression bombs, script formats behind image extensions
/// (ImageTragick), and SVGs that try to read a local secret or reach a network listener.
/// </summary>
public static class HostileFiles
{
    /// <summary>The two colours of the secret image: a pure-ish green and magenta that nothing in the test pictures uses.</summary>
    public static readonly (byte R, byte G, byte B)[] SecretColours = { (13, 247, 131), (251, 7, 199) };

    private static readonly Lazy<byte[]> ZeroPng30000 = new(() => ZeroGreyPng(30000, 30000));

    /// <summary>
    /// A real 30000x30000 8-bit grey PNG of zeros (900 million pixels), about 0.9 MB: every row is present and valid,
    /// so only a pixel limit checked on the header stops a decoder from allocating 900 MB. Built once per test run.
    /// </summary>
    public static byte[] Bomb30000Png => ZeroPng30000.Value;

    /// <summary>A PNG of zeros, written chunk by chunk with zlib (no image library involved).</summary>
    public static byte[] ZeroGreyPng(int width, int height)
    {
        using var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] row = new byte[width + 1]; // filter type 0, then zero samples
            for (int y = 0; y < height; y++)
            {
                zlib.Write(row);
            }
        }

        return Png(width, height, bitDepth: 8, colourType: 0, idat.ToArray());
    }

    /// <summary>The secret: 64x64, the left half <see cref="SecretColours"/>[0], the right half [1], 8-bit RGB.</summary>
    public static byte[] SecretPng()
    {
        const int Size = 64;
        using var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            byte[] row = new byte[1 + Size * 3];
            for (int x = 0; x < Size; x++)
            {
                var (r, g, b) = SecretColours[x < Size / 2 ? 0 : 1];
                row[1 + x * 3] = r;
                row[2 + x * 3] = g;
                row[3 + x * 3] = b;
            }

            for (int y = 0; y < Size; y++)
            {
                zlib.Write(row);
            }
        }

        return Png(Size, Size, bitDepth: 8, colourType: 2, idat.ToArray());
    }

    /// <summary>CSS that paints every rect in the first secret colour: what an SVG would pull in through XXE or @import.</summary>
    public static string SecretCss => $"rect {{ fill: {Css(SecretColours[0])} !important; }}";

    /// <summary>An SVG fragment in the secret colours, for &lt;use&gt; and XInclude.</summary>
    public static string SecretSvg =>
        $"""<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect id="s" width="64" height="64" fill="{Css(SecretColours[0])}"/></svg>""";

    public static string Css((byte R, byte G, byte B) colour) => $"rgb({colour.R},{colour.G},{colour.B})";

    /// <summary>Where the secret files of <see cref="Attacks"/> live and where the listener is.</summary>
    /// <param name="SecretPng">Absolute path of the secret PNG.</param>
    /// <param name="SecretSvg">Absolute path of the secret SVG.</param>
    /// <param name="SecretCss">Absolute path of the secret CSS (also plain text for text:/@file).</param>
    /// <param name="Port">The loopback listener's port.</param>
    /// <param name="MslWriteTarget">A path an MSL script asks to write: it must never exist.</param>
    public sealed record Targets(string SecretPng, string SecretSvg, string SecretCss, int Port, string MslWriteTarget);

    /// <summary>Writes the secret files into <paramref name="folder"/>.</summary>
    public static Targets WriteSecrets(string folder, int port)
    {
        Directory.CreateDirectory(folder);
        var targets = new Targets(
            Path.Combine(folder, "secret.png"),
            Path.Combine(folder, "secret.svg"),
            Path.Combine(folder, "secret.css"),
            port,
            Path.Combine(folder, "msl-wrote-this.png"));
        File.WriteAllBytes(targets.SecretPng, SecretPng());
        File.WriteAllText(targets.SecretSvg, SecretSvg);
        File.WriteAllText(targets.SecretCss, SecretCss);
        return targets;
    }

    /// <summary>
    /// Script formats and polyglots behind image extensions: KoalaPic must refuse every one as not an image (KP2008),
    /// since their first bytes are no image signature; an engine that trusted the name or sniffed ImageMagick's
    /// script formats would read the secret or call the listener.
    /// </summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> ScriptPayloads(Targets t)
    {
        string url = $"http://127.0.0.1:{t.Port}";
        return new (string, string)[]
        {
            ("mvg-image.png", $"push graphic-context\nviewbox 0 0 64 64\nimage over 0,0 64,64 '{t.SecretPng}'\npop graphic-context\n"),
            ("mvg-url.jpg", $"push graphic-context\nviewbox 0 0 640 480\nfill 'url({url}/mvg.jpg\"|touch \"{t.MslWriteTarget})'\npop graphic-context\n"),
            ("mvg-viewbox.svg", $"viewbox 0 0 64 64\nimage over 0,0 64,64 'msl:{t.SecretSvg}'\nimage over 0,0 64,64 '{url}/mvg.png'\n"),
            ("msl.png", $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<image>\n<read filename=\"{t.SecretPng}\" />\n<write filename=\"{t.MslWriteTarget}\" />\n</image>\n"),
            ("msl-xml.svg", $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<image>\n<read filename=\"{url}/msl.png\" />\n<write filename=\"{t.MslWriteTarget}\" />\n</image>\n"),
            ("text-prefix.jpg", $"text:{t.SecretCss}\n"),
            ("at-file.png", $"@{t.SecretCss}\n"),
            ("label-at-file.png", $"label:@{t.SecretCss}\n"),
            ("ephemeral.jpg", $"ephemeral:{t.SecretPng}\n"),
            ("url-prefix.png", $"url:{url}/prefix.png\n"),
        }.Select(p => (p.Item1, Encoding.UTF8.GetBytes(p.Item2))).ToList();
    }

    /// <summary>
    /// SVGs that try to read the secret (XXE, href to file://, a relative href to a file beside them, &lt;use&gt;,
    /// feImage, XInclude, CSS @import) or reach the listener (href, external DTD, @import). Each may convert or fail;
    /// either way no output may show a secret pixel and the listener must stay silent. Each paints a white
    /// background so a leaked secret would cover most of the picture.
    /// </summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> SvgAttacks(Targets t)
    {
        string url = $"http://127.0.0.1:{t.Port}";
        string secretPngUri = new Uri(t.SecretPng).AbsoluteUri;
        string secretSvgUri = new Uri(t.SecretSvg).AbsoluteUri;
        string secretCssUri = new Uri(t.SecretCss).AbsoluteUri;
        const string Open = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xi="http://www.w3.org/2001/XInclude" width="64" height="64"><rect width="64" height="64" fill="white"/>""";
        return new (string, string)[]
        {
            ("xxe-file.svg", $"""
                <?xml version="1.0"?>
                <!DOCTYPE svg [ <!ENTITY xxe SYSTEM "{secretCssUri}"> ]>
                <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><style>&xxe;</style><rect x="0" y="0" width="64" height="64"/></svg>
                """),
            ("xxe-path.svg", $"""
                <?xml version="1.0"?>
                <!DOCTYPE svg [ <!ENTITY xxe SYSTEM "{t.SecretCss}"> ]>
                <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><style>&xxe;</style><rect x="0" y="0" width="64" height="64"/></svg>
                """),
            ("xxe-remote-dtd.svg", $"""
                <?xml version="1.0"?>
                <!DOCTYPE svg [ <!ENTITY % remote SYSTEM "{url}/xxe.dtd"> %remote; ]>
                <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="white"/></svg>
                """),
            ("xxe-remote-entity.svg", $"""
                <?xml version="1.0"?>
                <!DOCTYPE svg [ <!ENTITY net SYSTEM "{url}/entity.css"> ]>
                <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><style>&net;</style><rect width="64" height="64" fill="white"/></svg>
                """),
            ("external-doctype.svg", $"""
                <?xml version="1.0"?>
                <!DOCTYPE svg SYSTEM "{url}/svg11.dtd">
                <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="white"/></svg>
                """),
            ("href-file.svg", Open + $"""<image x="0" y="0" width="64" height="64" href="{secretPngUri}" xlink:href="{secretPngUri}"/></svg>"""),
            ("href-path.svg", Open + $"""<image x="0" y="0" width="64" height="64" xlink:href="{t.SecretPng}"/></svg>"""),
            ("href-relative.svg", Open + """<image x="0" y="0" width="64" height="64" xlink:href="secret.png"/><image x="0" y="0" width="64" height="64" xlink:href="../secrets/secret.png"/></svg>"""),
            ("href-http.svg", Open + $"""<image x="0" y="0" width="64" height="64" xlink:href="{url}/secret.png"/></svg>"""),
            ("href-https.svg", Open + $"""<image x="0" y="0" width="64" height="64" href="https://127.0.0.1:{t.Port}/secret.png"/></svg>"""),
            ("use-file.svg", Open + $"""<use xlink:href="{secretSvgUri}#s"/><use href="secret.svg#s"/></svg>"""),
            ("use-http.svg", Open + $"""<use xlink:href="{url}/secret.svg#s"/></svg>"""),
            ("feimage.svg", Open + $"""<filter id="f" x="0" y="0" width="1" height="1"><feImage xlink:href="{secretPngUri}"/></filter><rect width="64" height="64" filter="url(#f)"/><filter id="g"><feImage href="{url}/fe.png"/></filter><rect width="64" height="64" filter="url(#g)" opacity="0.5"/></svg>"""),
            ("xinclude.svg", Open + $"""<xi:include href="{secretSvgUri}" parse="xml"/><xi:include href="{url}/include.svg" parse="xml"/><text y="40"><xi:include href="{secretCssUri}" parse="text"/></text></svg>"""),
            ("css-import.svg", $"""<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><style>@import url("{secretCssUri}"); @import url("{url}/import.css"); @import "secret.css";</style><rect width="64" height="64" fill="white"/><rect width="64" height="64"/></svg>"""),
            ("css-url.svg", Open + "<style>rect.x { fill: url(\"" + url + "/fill.svg#p\"); }</style>" + $"""<rect class="x" width="64" height="64"/><rect width="64" height="64" fill="url({secretSvgUri}#s)"/></svg>"""),
        }.Select(p => (p.Item1, Encoding.UTF8.GetBytes(p.Item2))).ToList();
    }

    /// <summary>Pixels within <paramref name="tolerance"/> of either secret colour in an encoded image (alpha flattened onto white).</summary>
    public static long SecretPixelCount(byte[] encoded, int tolerance = 12)
    {
        KoalaPic.Build.Engine.VipsRuntime.EnsureInitialized();
        using NetVips.Image image = NetVips.Image.NewFromBuffer(encoded, access: NetVips.Enums.Access.Random, failOn: NetVips.Enums.FailOn.Error);
        NetVips.Image rgb = image;
        var owned = new List<NetVips.Image>();
        try
        {
            if (rgb.HasAlpha())
            {
                owned.Add(rgb = rgb.Flatten(Enumerable.Repeat(255.0, rgb.Bands - 1).ToArray()));
            }

            if (rgb.Interpretation != NetVips.Enums.Interpretation.Srgb || rgb.Bands != 3)
            {
                owned.Add(rgb = rgb.Colourspace(NetVips.Enums.Interpretation.Srgb));
            }

            long count = 0;
            foreach (var (r, g, b) in SecretColours)
            {
                using NetVips.Image distance = (rgb - new double[] { r, g, b }).Abs();
                using NetVips.Image near = (distance <= tolerance).Bandbool(NetVips.Enums.OperationBoolean.And);
                count += (long)Math.Round(near.Avg() / 255 * rgb.Width * rgb.Height);
            }

            return count;
        }
        finally
        {
            owned.ForEach(i => i.Dispose());
        }
    }

    /// <summary>The control for the secret detector: an SVG that paints the secret colour with inline CSS, as a resolved XXE would.</summary>
    public static byte[] ControlSvgShowingTheSecret() => Encoding.UTF8.GetBytes(
        $"""<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><style>{SecretCss}</style><rect width="64" height="64"/></svg>""");

    /// <summary>A small baseline JPEG's SOF0 size patched to <paramref name="width"/> x <paramref name="height"/> (up to 65535).</summary>
    public static byte[] PatchJpegSize(byte[] jpeg, int width, int height)
    {
        byte[] patched = (byte[])jpeg.Clone();
        for (int i = 2; i + 9 < patched.Length;)
        {
            if (patched[i] != 0xFF)
            {
                throw new InvalidOperationException("not at a JPEG marker");
            }

            byte marker = patched[i + 1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(patched.AsSpan(i + 2));
            if (marker is >= 0xC0 and <= 0xC3)
            {
                // SOFn: length (2), precision (1), height (2), width (2)
                BinaryPrimitives.WriteUInt16BigEndian(patched.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(patched.AsSpan(i + 7), (ushort)width);
                return patched;
            }

            i += 2 + length;
        }

        throw new InvalidOperationException("no SOF marker");
    }

    /// <summary>A lossless WebP (VP8L) whose header is patched to claim <paramref name="width"/> x <paramref name="height"/> (up to 16384).</summary>
    public static byte[] PatchWebpLosslessSize(byte[] webp, int width, int height)
    {
        byte[] patched = (byte[])webp.Clone();
        if (Encoding.ASCII.GetString(patched, 12, 4) != "VP8L" || patched[20] != 0x2F)
        {
            throw new InvalidOperationException("not a simple lossless WebP");
        }

        // After the 0x2F signature: 14 bits width-1, 14 bits height-1, 1 bit alpha, 3 bits version, little-endian.
        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(patched.AsSpan(21));
        bits = (bits & 0xF0000000u) | (uint)(width - 1) | ((uint)(height - 1) << 14);
        BinaryPrimitives.WriteUInt32LittleEndian(patched.AsSpan(21), bits);
        return patched;
    }

    /// <summary>A GIF whose logical screen and first image descriptor are patched to <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static byte[] PatchGifSize(byte[] gif, int width, int height)
    {
        byte[] patched = (byte[])gif.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(patched.AsSpan(6), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(patched.AsSpan(8), (ushort)height);
        int i = 13;
        if ((patched[10] & 0x80) != 0)
        {
            i += 3 * (1 << ((patched[10] & 0x07) + 1)); // global colour table
        }

        while (patched[i] == 0x21)
        {
            i += 2; // extension introducer and label, then sub-blocks
            while (patched[i] != 0)
            {
                i += patched[i] + 1;
            }

            i++;
        }

        if (patched[i] != 0x2C)
        {
            throw new InvalidOperationException("no image descriptor");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(patched.AsSpan(i + 5), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(patched.AsSpan(i + 7), (ushort)height);
        return patched;
    }

    private static byte[] Png(int width, int height, byte bitDepth, byte colourType, byte[] idat)
    {
        using var png = new MemoryStream();
        png.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        byte[] header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = bitDepth;
        header[9] = colourType;
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", idat);
        WriteChunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        byte[] length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        byte[] typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typeAndData);
        byte[] crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typeAndData));
        stream.Write(crc);
    }
}

/// <summary>A TCP listener on a loopback port that counts every connection made to it.</summary>
public sealed class LoopbackListener : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private int connections;

    public LoopbackListener()
    {
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    public int Connections => Volatile.Read(ref connections);

    /// <summary>Connects once itself and waits until the listener has counted it: proves the listener can see a connection.</summary>
    public void AssertItCountsAConnection()
    {
        int before = Connections;
        using (var client = new TcpClient())
        {
            client.Connect(IPAddress.Loopback, Port);
        }

        SpinWait.SpinUntil(() => Connections > before, TimeSpan.FromSeconds(30));
        if (Connections <= before)
        {
            throw new InvalidOperationException("the loopback listener did not notice a connection");
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using TcpClient client = await listener.AcceptTcpClientAsync(stop.Token);
                Interlocked.Increment(ref connections);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }
}
