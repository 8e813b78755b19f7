using System.Diagnostics;
using System.Globalization;
using KoalaPic.Build.Engine;
using NetVips;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
VipsRuntime.EnsureInitialized(1);

string corpus = args.Length > 1 ? args[1] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/corpus/fixtures"));
string mode = args.Length > 0 ? args[0] : "search";
int width = 1200;

string[] images =
{
    "2569067123_aca715a2ee_o.jpg", "flowers.jpeg", "concert.jpg", "Landscape_1.jpg", "4.webp",
    "Channel_digital_image_CMYK_color.jpg", "sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif",
    "gradients-rgb8.png", "alpha-layer-1-fill.png", "Flag_of_the_Netherlands-16bit.png", "with-alpha.png",
};

Image Reference(string name, ImageFormat format)
{
    byte[] source = File.ReadAllBytes(Path.Combine(corpus, name));
    using Image thumb = Image.ThumbnailBuffer(source, width, height: 10_000_000, size: Enums.Size.Down, outputProfile: "srgb", failOn: Enums.FailOn.Error);
    Image current = thumb.Colourspace(thumb.Bands <= 2 ? Enums.Interpretation.Bw : Enums.Interpretation.Srgb).Cast(Enums.BandFormat.Uchar);
    if (format == ImageFormat.Jpeg && current.HasAlpha())
    {
        current = current.Flatten(new double[] { 255, 255, 255 }.Take(current.Bands - 1).ToArray());
    }

    return current.CopyMemory();
}

byte[] Encode(Image image, ImageFormat format, int q) => format switch
{
    ImageFormat.Jpeg => image.JpegsaveBuffer(q: q, optimizeCoding: true, keep: Enums.ForeignKeep.None),
    ImageFormat.Webp => image.WebpsaveBuffer(q: q, effort: 4, keep: Enums.ForeignKeep.None),
    ImageFormat.Avif => image.HeifsaveBuffer(q: q, compression: Enums.ForeignHeifCompression.Av1, effort: 4, keep: Enums.ForeignKeep.None),
    _ => throw new ArgumentOutOfRangeException(nameof(format)),
};

Image Decode(byte[] bytes) => Image.NewFromBuffer(bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error);

var formats = new[] { ImageFormat.Jpeg, ImageFormat.Webp, ImageFormat.Avif };
if (mode == "curves")
{
    var only = args.Length > 2 ? args[2].Split(',').Select(s => Enum.Parse<ImageFormat>(s, true)).ToArray() : formats;
    foreach (ImageFormat format in only)
    {
        foreach (string name in images)
        {
            using Image reference = Reference(name, format);
            Console.Write($"{format,-5} {name,-32} {reference.Width}x{reference.Height}x{reference.Bands}");
            int[] qs = format == ImageFormat.Avif ? new[] { 20, 30, 40, 45, 50, 55, 60, 65, 70, 75, 80, 90 } : new[] { 30, 40, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95 };
            foreach (int q in qs)
            {
                byte[] bytes = Encode(reference, format, q);
                using Image decoded = Decode(bytes);
                double distance = SmartQuality.Distance(reference, decoded);
                Console.Write($" | q{q} {distance:F4} {bytes.Length / 1024.0:F0}k");
            }

            Console.WriteLine();
        }
    }
}
if (mode == "crops")
{
    // crops <corpus> <image> <format> <x> <y> <w> <h> <q,q,...>: 1:1 crops of the source and of each quality, side by side, 2x zoom.
    string name = args[2];
    var format = Enum.Parse<ImageFormat>(args[3], true);
    int x = int.Parse(args[4]), y = int.Parse(args[5]), w = int.Parse(args[6]), h = int.Parse(args[7]);
    using Image reference = Reference(name, format);
    var tiles = new List<Image> { reference.Crop(x, y, w, h) };
    foreach (int q in args[8].Split(',').Select(int.Parse))
    {
        byte[] bytes = Encode(reference, format, q);
        using Image decoded = Decode(bytes);
        Console.WriteLine($"q{q}: distance {SmartQuality.Distance(reference, decoded):F4}, {bytes.Length} bytes");
        tiles.Add(decoded.Crop(x, y, w, h).CopyMemory());
    }

    using Image sheet = Image.Arrayjoin(tiles.ToArray(), across: tiles.Count <= 3 ? tiles.Count : 2, shim: 4, background: new double[] { 255 });
    sheet.Resize(2, kernel: Enums.Kernel.Nearest).WriteToFile(args.Length > 9 ? args[9] : "/tmp/crops.png");
}

if (mode == "validate")
{
    // validate <corpus> [formats] [images]: our SSIMULACRA against libjxl's ssimulacra_main, with butteraugli_main's
    // distances beside (Debian: libjxl-devtools). Writes PNGs to a temp folder.
    var only = args.Length > 2 ? args[2].Split(',').Select(s => Enum.Parse<ImageFormat>(s, true)).ToArray() : formats;
    var names = args.Length > 3 ? args[3].Split(',') : images;
    string folder = Path.Combine(Path.GetTempPath(), "smart-quality-validate");
    Directory.CreateDirectory(folder);
    string Run(string tool, string a, string b)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(b);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    foreach (ImageFormat format in only)
    {
        foreach (string name in names)
        {
            using Image reference = Reference(name, format);
            string referencePng = Path.Combine(folder, "reference.png");
            reference.WriteToFile(referencePng);
            int[] qs = format == ImageFormat.Avif ? new[] { 20, 35, 50, 65, 80 } : new[] { 30, 50, 70, 80, 90 };
            foreach (int q in qs)
            {
                byte[] bytes = Encode(reference, format, q);
                using Image decoded = Decode(bytes);
                string decodedPng = Path.Combine(folder, "decoded.png");
                decoded.WriteToFile(decodedPng);
                double ours = SmartQuality.Distance(reference, decoded);
                string theirs = Run("ssimulacra_main", referencePng, decodedPng).Trim();
                string[] butter = Run("butteraugli_main", referencePng, decodedPng).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                string pnorm = butter.FirstOrDefault(l => l.Contains("norm"))?.Split(':').Last().Trim() ?? "?";
                Console.WriteLine($"{format,-5} {name,-34} q{q,-3} {bytes.Length / 1024.0,6:F1}k ours {ours:F4} libjxl {theirs,-8} butteraugli max {butter[0].Trim(),-8} 3-norm {pnorm}");
            }
        }
    }
}
if (mode == "search")
{
    // search <corpus> [formats] [images]: per image, format and level: chosen quality, distance, bytes against the
    // fixed quality 85 encode, encodes, and time against one fixed encode.
    var only = args.Length > 2 ? args[2].Split(',').Select(s => Enum.Parse<ImageFormat>(s, true)).ToArray() : formats;
    var names = args.Length > 3 ? args[3].Split(',') : images;
    var levels = new[] { SmartQualityLevel.Low, SmartQualityLevel.Medium, SmartQualityLevel.High };
    Console.WriteLine("format image size | fixed q85: bytes ms | level: q distance(target) bytes(% of q85) encodes ms(x fixed) ...");
    foreach (ImageFormat format in only)
    {
        var totals = levels.ToDictionary(l => l, _ => (Bytes: 0L, Fixed: 0L, Ms: 0.0, FixedMs: 0.0, Encodes: 0, Count: 0, Missed: 0));
        foreach (string name in names)
        {
            using Image reference = Reference(name, format);
            // CPU time of this process, not wall time: the machine is shared, and libvips' threads count alike.
            var watch = CpuWatch.StartNew();
            byte[] fixedBytes = Encode(reference, format, 85);
            double fixedMs = watch.ElapsedMs;
            Console.Write($"{format,-5} {name,-34} {reference.Width}x{reference.Height}x{reference.Bands} | q85 {fixedBytes.Length / 1024.0,6:F1}k {fixedMs,5:F0}ms");
            foreach (SmartQualityLevel level in levels)
            {
                watch.Restart();
                SmartQualityResult result = SmartQuality.Search(reference, format, level, q => Encode(reference, format, q), Decode);
                double ms = watch.ElapsedMs;
                Console.Write($" | {level}: q{result.Quality} {result.Score:F4}{(result.MetTarget ? "" : "!")} {result.Bytes.Length / 1024.0:F1}k ({100.0 * result.Bytes.Length / fixedBytes.Length:F0}%) {result.Encodes}x {ms:F0}ms ({ms / fixedMs:F1}x)");
                var t = totals[level];
                totals[level] = (t.Bytes + result.Bytes.Length, t.Fixed + fixedBytes.Length, t.Ms + ms, t.FixedMs + fixedMs, t.Encodes + result.Encodes, t.Count + 1, t.Missed + (result.MetTarget ? 0 : 1));
            }

            Console.WriteLine();
        }

        foreach (var (level, t) in totals)
        {
            Console.WriteLine($"{format} {level}: total bytes {100.0 * t.Bytes / t.Fixed:F0}% of q85, mean encodes {(double)t.Encodes / t.Count:F1}, CPU time {t.Ms / t.FixedMs:F1}x a fixed encode ({t.Ms / t.Count:F0} ms/image vs {t.FixedMs / t.Count:F0}), missed target {t.Missed}/{t.Count}");
        }
    }
}

if (mode == "cost")
{
    // cost <corpus> [image]: milliseconds of one distance measurement at 1200 wide, and of one prepared comparison.
    string name = args.Length > 2 ? args[2] : "2569067123_aca715a2ee_o.jpg";
    using Image reference = Reference(name, ImageFormat.Jpeg);
    byte[] bytes = Encode(reference, ImageFormat.Jpeg, 80);
    var watch = CpuWatch.StartNew();
    using var prepared = new SmartQuality.PreparedReference(reference);
    Console.WriteLine($"prepare reference: {watch.ElapsedMs:F0} ms CPU");
    for (int i = 0; i < 5; i++)
    {
        watch.Restart();
        using Image decoded = Decode(bytes);
        double d = prepared.DistanceTo(decoded);
        double measure = watch.ElapsedMs;
        watch.Restart();
        Encode(reference, ImageFormat.Jpeg, 80);
        Console.WriteLine($"decode + distance {d:F4}: {measure:F0} ms CPU; jpeg encode: {watch.ElapsedMs:F0} ms CPU");
    }
}

/// <summary>CPU time used by this process (all threads) since start.</summary>
internal sealed class CpuWatch
{
    private TimeSpan start = Process.GetCurrentProcess().TotalProcessorTime;

    public static CpuWatch StartNew() => new();

    public double ElapsedMs => (Process.GetCurrentProcess().TotalProcessorTime - start).TotalMilliseconds;

    public void Restart() => start = Process.GetCurrentProcess().TotalProcessorTime;
}
