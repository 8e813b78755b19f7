using System.Diagnostics;
using System.Globalization;
using KoalaPic.Build.Engine;
using NetVips;

// JPEG XL against AVIF and WebP, each at the lowest quality whose output is within a SSIMULACRA distance of the
// resized source (the metric, targets and search SmartQuality uses), through the engine's own encoders.
// Usage: JxlCompare [corpus folder] [target distance, default 0.025 = SmartQuality medium] [formats] [images]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
VipsRuntime.EnsureInitialized(1);

string corpus = args.Length > 0 ? args[0] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/corpus/fixtures"));
double target = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 0.025;
ImageFormat[] formats = args.Length > 2 ? args[2].Split(',').Select(f => Enum.Parse<ImageFormat>(f, true)).ToArray() : new[] { ImageFormat.Webp, ImageFormat.Avif, ImageFormat.Jxl };
string[] images = args.Length > 3 ? args[3].Split(',') : new[]
{
    "2569067123_aca715a2ee_o.jpg", "flowers.jpeg", "concert.jpg", "Landscape_1.jpg", "4.webp",
    "Channel_digital_image_CMYK_color.jpg", "sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif", "p3.png",
};
const int Width = 1200;
// The qualities searched: where the targets land on photos (SmartQuality's medium ranges, wider for jxl and avif).
(int Lowest, int Highest) Range(ImageFormat format) => format switch
{
    ImageFormat.Avif => (20, 90),
    _ => (30, 95),
};

// The engine's resized, sRGB, 8-bit pixels, losslessly: what every encoder below is given.
byte[] ReferencePng(string name) => ImageConverter.Convert(
    File.ReadAllBytes(Path.Combine(corpus, name)),
    new ConversionOptions(ImageFormat.Png, 100, Width, null) { Lossless = true, Enlarge = false }).Bytes;

// libvips reads webp and avif; jxl is read back through the engine (ImageMagick's libjxl), as PNG.
Image Decode(byte[] bytes, ImageFormat format)
{
    using Image loaded = Image.NewFromBuffer(
        format == ImageFormat.Jxl ? ImageConverter.Convert(bytes, new ConversionOptions(ImageFormat.Png, 100, null, null) { Lossless = true }).Bytes : bytes,
        access: Enums.Access.Random,
        failOn: Enums.FailOn.Error);
    return loaded.CopyMemory();
}

// On the encoder's own quality scale, as SmartQuality searches: the engine's encoders, called as its converter calls
// them after QualityScale has mapped Quality (a search over Quality itself would step coarsely where a row jumps).
(byte[] Bytes, double CpuMs, double WallMs) Encode(Image reference, ImageFormat format, int quality)
{
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    byte[] bytes = format == ImageFormat.Jxl
        ? MagickCodec.EncodeJxl(reference, quality, lossless: false)
        : ImageConverter.EncodeWithLibvips(reference, new ConversionOptions(format, quality, null, null), quality);
    return (bytes, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds, wall.Elapsed.TotalMilliseconds);
}

Console.WriteLine($"target SSIMULACRA <= {target}, {Width} px wide; qualities on each encoder's own scale; encode time is that of the chosen quality's encode during the search");
Console.WriteLine("image | " + string.Join(" | ", formats.Select(f => $"{f}: q distance KB cpu-ms wall-ms")));
var totals = formats.ToDictionary(f => f, _ => (Bytes: 0L, Cpu: 0.0, Wall: 0.0, Missed: 0));
foreach (string name in images)
{
    byte[] png = ReferencePng(name);
    using Image reference = Decode(png, ImageFormat.Png);
    Console.Write($"{name} {reference.Width}x{reference.Height}x{reference.Bands}");
    foreach (ImageFormat format in formats)
    {
        // SmartQuality's own binary search (the engine's), at this target and range; each encode's time is kept so
        // that the chosen quality's can be reported.
        var times = new Dictionary<int, (double CpuMs, double WallMs)>();
        SmartQualityResult found = SmartQuality.Search(
            reference,
            target,
            Range(format),
            q =>
            {
                var encoded = Encode(reference, format, q);
                times[q] = (encoded.CpuMs, encoded.WallMs);
                return encoded.Bytes;
            },
            bytes => Decode(bytes, format));
        var (cpuMs, wallMs) = times[found.Quality];
        bool met = found.MetTarget;
        byte[] bytesAt = found.Bytes;
        Console.Write($" | {format} q{found.Quality} {found.Score:F4}{(met ? "" : "!")} {bytesAt.Length / 1024.0:F1} {cpuMs:F0} {wallMs:F0}");
        var t = totals[format];
        totals[format] = (t.Bytes + bytesAt.Length, t.Cpu + cpuMs, t.Wall + wallMs, t.Missed + (met ? 0 : 1));
    }

    Console.WriteLine();
}

long webpBytes = totals.TryGetValue(ImageFormat.Webp, out var w) ? w.Bytes : 0;
Console.WriteLine();
Console.WriteLine("| format | total KB | vs webp | encode CPU ms (sum) | encode wall ms (sum) | missed target |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (format, t) in totals)
{
    string versus = webpBytes > 0 ? $"{100.0 * t.Bytes / webpBytes:F0}%" : "";
    Console.WriteLine($"| {ImageFormats.Name(format)} | {t.Bytes / 1024.0:F0} | {versus} | {t.Cpu:F0} | {t.Wall:F0} | {t.Missed}/{images.Length} |");
}
