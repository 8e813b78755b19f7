using System.Diagnostics;
using System.Globalization;
using KoalaPic.Build.Engine;
using NetVips;

// Measures decode-once (ImageConverter.Decode) against one decode per output, the formats' encode costs
// (FormatDescriptor.EncodeCost) and AVIF encodes given more libvips threads. See README.md for the commands.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string mode = args.Length > 0 ? args[0] : "decodeonce";
var values = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 1; i + 1 < args.Length; i += 2)
{
    values[args[i].TrimStart('-')] = args[i + 1];
}

string Get(string name, string fallback) => values.TryGetValue(name, out string? v) ? v : fallback;
string corpus = Path.GetFullPath(Get("corpus", Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/corpus/fixtures")));
int reps = int.Parse(Get("reps", "5"));

// As the batch runs each image: one libvips thread (cores + 2 images at once); sequential here, so that the process's
// CPU time is this work's.
VipsRuntime.EnsureInitialized(Environment.ProcessorCount + 2);
Console.WriteLine($"# {mode}: {Environment.ProcessorCount} cores, load average {Bench.LoadAverage()}, libvips {VipsRuntime.LibvipsVersion}, {reps} repetitions (medians)");
switch (mode)
{
    case "decodeonce":
        DecodeOnce.Run(corpus, reps, Get("formats", "webp,jpg").Split(','), Get("widths", "480,960,1920").Split(',').Select(int.Parse).ToArray());
        break;
    case "sharequality":
        ShareQuality.Run(corpus, Get("formats", "avif,webp,jpg").Split(','), Get("widths", "480,960,1920").Split(',').Select(int.Parse).ToArray());
        break;
    case "encodecost":
        EncodeCost.Run(corpus, reps, int.Parse(Get("width", "960")));
        break;
    case "tail":
        TailThreads.Run(corpus, reps, int.Parse(Get("width", "1920")));
        break;
    case "batch":
        BatchRun.Run(corpus, Get("layout", "shared"), Get("formats", "webp,jpg").Split(','), Get("widths", "480,960,1920").Split(',').Select(int.Parse).ToArray());
        break;
    default:
        Console.Error.WriteLine("usage: decodeonce [--reps 5] [--formats webp,jpg] [--widths 480,960,1920] | sharequality [--formats avif,webp,jpg] [--widths 480,960,1920] | encodecost [--reps 5] [--width 960] | tail [--reps 5] [--width 1920] | batch --layout shared|copies [--formats webp,jpg] [--widths 480,960,1920]");
        return 2;
}

Console.WriteLine($"# load average at the end {Bench.LoadAverage()}");
return 0;

internal static class Bench
{
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>CPU time (user+sys) of this process and wall time of <paramref name="work"/>, in seconds.</summary>
    public static (double Cpu, double Wall) Measure(Action work)
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        work();
        wall.Stop();
        process.Refresh();
        return ((process.TotalProcessorTime - cpu).TotalSeconds, wall.Elapsed.TotalSeconds);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The source fully decoded (no shrink-on-load), upright, sRGB, 8-bit, alpha flattened onto white.</summary>
    public static Image Full(byte[] source)
    {
        Image image = Image.NewFromBuffer(source, access: Enums.Access.Random).Autorot();
        if (image.HasAlpha())
        {
            image = image.Flatten(new double[] { 255, 255, 255 }.Take(image.Bands - 1).ToArray());
        }

        return image.Colourspace(Enums.Interpretation.Srgb).Cast(Enums.BandFormat.Uchar).CopyMemory();
    }
}

/// <summary>
/// One photo as JPEG, PNG and TIFF (PNG and TIFF have no shrink-on-load), each made into every width × format: one
/// decode per output (ImageConverter.Convert, as before) against one decode for all (ImageConverter.Decode), interleaved.
/// </summary>
internal static class DecodeOnce
{
    public static void Run(string corpus, int reps, string[] formatNames, int[] widths)
    {
        byte[] jpeg = File.ReadAllBytes(Path.Combine(corpus, "2569067123_aca715a2ee_o.jpg"));
        using Image full = Bench.Full(jpeg);
        var sources = new (string Name, byte[] Bytes)[]
        {
            ("JPEG", jpeg),
            ("PNG", full.PngsaveBuffer()),
            ("TIFF (LZW)", full.TiffsaveBuffer(compression: Enums.ForeignTiffCompression.Lzw)),
        };
        var variants = formatNames.Select(f => ImageFormats.TryParse(f, out ImageFormat format) ? format : throw new ArgumentException(f))
            .SelectMany(format => widths.Select(width => new ConversionOptions(format, ConversionOptions.DefaultQuality, width, null)))
            .ToList();
        Console.WriteLine($"source 2569067123_aca715a2ee_o.jpg {full.Width}x{full.Height}; {variants.Count} outputs: {string.Join(", ", formatNames)} at {string.Join("/", widths)} wide; one process, sequential, 1 libvips thread");
        Console.WriteLine("| source | bytes | CPU s, one decode per output | CPU s, decode once | CPU saved | wall s before / after | SSIMULACRA distance before / after (median) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (name, bytes) in sources)
        {
            // Warm up both paths (JIT, codec tables).
            Before(bytes, variants);
            After(bytes, variants);
            var before = new List<(double Cpu, double Wall)>();
            var after = new List<(double Cpu, double Wall)>();
            for (int rep = 0; rep < reps; rep++)
            {
                if (rep % 2 == 0)
                {
                    before.Add(Bench.Measure(() => Before(bytes, variants)));
                    after.Add(Bench.Measure(() => After(bytes, variants)));
                }
                else
                {
                    after.Add(Bench.Measure(() => After(bytes, variants)));
                    before.Add(Bench.Measure(() => Before(bytes, variants)));
                }
            }

            double cpuBefore = Bench.Median(before.Select(m => m.Cpu));
            double cpuAfter = Bench.Median(after.Select(m => m.Cpu));
            var (distanceBefore, distanceAfter) = Quality(bytes, variants);
            Console.WriteLine($"| {name} | {bytes.Length / 1024} KiB | {cpuBefore:F2} | {cpuAfter:F2} | {100 * (1 - cpuAfter / cpuBefore):F0} % | {Bench.Median(before.Select(m => m.Wall)):F2} / {Bench.Median(after.Select(m => m.Wall)):F2} | {distanceBefore:F4} / {distanceAfter:F4} |");
        }
    }

    private static List<EncodedImage> Before(byte[] source, List<ConversionOptions> variants) =>
        variants.Select(options => ImageConverter.Convert(source, options)).ToList();

    private static List<EncodedImage> After(byte[] source, List<ConversionOptions> variants)
    {
        using DecodedSource decoded = ImageConverter.Decode(source, variants);
        return variants.Select(options => decoded.Encode(options)).ToList();
    }

    /// <summary>Median SSIMULACRA distance of the outputs from the fully decoded source resized to each output's size.</summary>
    private static (double Before, double After) Quality(byte[] source, List<ConversionOptions> variants)
    {
        using Image full = Bench.Full(source);
        double Distance(EncodedImage output)
        {
            using Image decoded = Image.NewFromBuffer(output.Bytes, access: Enums.Access.Random).Colourspace(Enums.Interpretation.Srgb).CopyMemory();
            using Image reference = full.Resize((double)decoded.Width / full.Width, vscale: (double)decoded.Height / full.Height, kernel: Enums.Kernel.Lanczos3).CopyMemory();
            return SmartQuality.Distance(reference, decoded);
        }

        return (Bench.Median(Before(source, variants).Select(Distance)), Bench.Median(After(source, variants).Select(Distance)));
    }
}

/// <summary>
/// Whether the outputs made from one shared decode (ImageConverter.Decode) are the ones each makes alone
/// (ImageConverter.Convert): on the responsive job's twelve corpus images (bench/bench.mjs row (k)), every width × format,
/// the mean SSIMULACRA distance of each from the same reference as bench/quality-calibration's score mode (the source
/// thumbnailed to that width with libvips), and how many outputs are byte-identical to those made alone.
/// </summary>
internal static class ShareQuality
{
    private static readonly string[] Images =
    [
        "2569067123_aca715a2ee_o.jpg", "flowers.jpeg", "sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif", "alpha-layer-1-fill.png",
        "4.webp", "gradients-rgb8.png", "Landscape_1.jpg", "Channel_digital_image_CMYK_color.jpg", "concert.jpg",
        "uncompressed_tiff.tiff", "with-alpha.png", "5_webp_a.webp",
    ];

    public static void Run(string corpus, string[] formatNames, int[] widths)
    {
        var formats = formatNames.Select(f => ImageFormats.TryParse(f, out ImageFormat format) ? format : throw new ArgumentException(f)).ToList();
        var scores = new Dictionary<(ImageFormat Format, int Width), List<(double Alone, double Shared, bool Identical)>>();
        foreach (string name in Images)
        {
            byte[] source = File.ReadAllBytes(Path.Combine(corpus, name));
            int sourceWidth;
            using (Image header = Image.NewFromBuffer(source))
            {
                sourceWidth = ImageConverter.OrientedSize(header).Width;
            }

            // KoalaPic's Widths rule: widths wider than the source are dropped, the narrowest kept when none fits.
            int[] kept = widths.Where(w => w <= sourceWidth).DefaultIfEmpty(widths.Min()).ToArray();
            var variants = formats.SelectMany(format => kept.Select(width => new ConversionOptions(format, ConversionOptions.DefaultQuality, width, null))).ToList();
            using DecodedSource decoded = ImageConverter.Decode(source, variants);
            foreach (ConversionOptions options in variants)
            {
                EncodedImage alone = ImageConverter.Convert(source, options);
                EncodedImage shared = decoded.Encode(options);
                using Image reference = Reference(source, options.Width!.Value);
                var list = scores.TryGetValue((options.Format, options.Width!.Value), out var l) ? l : scores[(options.Format, options.Width!.Value)] = [];
                list.Add((Distance(reference, alone), Distance(reference, shared), alone.Bytes.AsSpan().SequenceEqual(shared.Bytes)));
            }
        }

        Console.WriteLine($"{Images.Length} corpus images (the responsive job's), {string.Join(", ", formatNames)} at {string.Join("/", widths)} wide (those the Widths rule keeps), default Quality; mean SSIMULACRA distance from the source thumbnailed to each width");
        Console.WriteLine("| format | width | outputs | made alone | from the shared decode | byte-identical |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var ((format, width), list) in scores.OrderBy(s => formats.IndexOf(s.Key.Format)).ThenBy(s => s.Key.Width))
        {
            Console.WriteLine($"| {ImageFormats.Name(format)} | {width} | {list.Count} | {list.Average(s => s.Alone):F4} | {list.Average(s => s.Shared):F4} | {list.Count(s => s.Identical)} of {list.Count} |");
        }

        foreach (ImageFormat format in formats)
        {
            var all = scores.Where(s => s.Key.Format == format).SelectMany(s => s.Value).ToList();
            Console.WriteLine($"| {ImageFormats.Name(format)} | all | {all.Count} | {all.Average(s => s.Alone):F4} | {all.Average(s => s.Shared):F4} | {all.Count(s => s.Identical)} of {all.Count} |");
        }
    }

    /// <summary>bench/quality-calibration's reference (TestImages.Reference): thumbnailed, 8-bit, flattened onto white.</summary>
    private static Image Reference(byte[] source, int width)
    {
        using Image thumb = Image.ThumbnailBuffer(source, width, height: 10_000_000, size: Enums.Size.Down, outputProfile: "srgb", failOn: Enums.FailOn.Error);
        return Flat(thumb);
    }

    private static double Distance(Image reference, EncodedImage output)
    {
        using Image decoded = Image.NewFromBuffer(output.Bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
        using Image flat = Flat(decoded);
        return SmartQuality.Distance(reference, flat);
    }

    private static Image Flat(Image image)
    {
        using Image colour = image.Colourspace(image.Bands <= 2 ? Enums.Interpretation.Bw : Enums.Interpretation.Srgb);
        using Image bytes = colour.Cast(Enums.BandFormat.Uchar);
        using Image flat = bytes.HasAlpha() ? bytes.Flatten(Enumerable.Repeat(255.0, bytes.Bands - 1).ToArray()) : bytes.Copy();
        return flat.CopyMemory();
    }
}

/// <summary>
/// CPU time per output megapixel of each format's encoder at its defaults, relative to JPEG's: the factor the batch
/// orders its work by (FormatDescriptor.EncodeCost). Each image is resized once, in memory; only the encodes are timed.
/// </summary>
internal static class EncodeCost
{
    private static readonly string[] Images =
    {
        "2569067123_aca715a2ee_o.jpg", "flowers.jpeg", "Landscape_1.jpg", "gradients-rgb8.png",
    };

    public static void Run(string corpus, int reps, int width)
    {
        var perFormat = new Dictionary<ImageFormat, List<double>>();
        foreach (string name in Images)
        {
            byte[] source = File.ReadAllBytes(Path.Combine(corpus, name));
            var variants = ImageFormats.All.Select(d => new ConversionOptions(d.Format, ConversionOptions.DefaultQuality, width, null)).ToList();
            using DecodedSource decoded = ImageConverter.Decode(source, variants);
            foreach (ConversionOptions options in variants)
            {
                try
                {
                    EncodedImage first = decoded.Encode(options);
                    double megapixels = (double)first.Width * first.Height / 1e6;
                    double cpu = Bench.Median(Enumerable.Range(0, reps).Select(_ => Bench.Measure(() => decoded.Encode(options)).Cpu));
                    (perFormat.TryGetValue(options.Format, out var list) ? list : perFormat[options.Format] = new List<double>()).Add(cpu / megapixels);
                }
                catch (Exception ex) when (ex is ImageConversionException or DllNotFoundException or TypeInitializationException or InvalidOperationException)
                {
                    Console.WriteLine($"# {name} as {ImageFormats.Name(options.Format)}: not measured ({ex.GetType().Name}: {ex.Message.Split('\n')[0]})");
                }
            }
        }

        double jpeg = Bench.Median(perFormat[ImageFormat.Jpeg]);
        Console.WriteLine($"{Images.Length} images at {width} wide, default Quality; CPU time per output megapixel, median over the images of the median of {reps}");
        Console.WriteLine("| format | CPU ms per megapixel | relative to jpg (EncodeCost) |");
        Console.WriteLine("|---|---|---|");
        foreach (var (format, costs) in perFormat.OrderBy(p => Bench.Median(p.Value)))
        {
            Console.WriteLine($"| {ImageFormats.Name(format)} | {1000 * Bench.Median(costs):F1} | {Bench.Median(costs) / jpeg:F1} |");
        }
    }
}

/// <summary>
/// One AVIF encode with 1 libvips thread (as in the middle of a batch) and with one per core (as TailThreads gives the
/// last encodes): heifsave hands vips_concurrency_get() to libheif's aom encoder as "threads".
/// </summary>
internal static class TailThreads
{
    public static void Run(string corpus, int reps, int width)
    {
        byte[] source = File.ReadAllBytes(Path.Combine(corpus, "2569067123_aca715a2ee_o.jpg"));
        var avif = new ConversionOptions(ImageFormat.Avif, ConversionOptions.DefaultQuality, width, null);
        using DecodedSource decoded = ImageConverter.Decode(source, new[] { avif, avif with { Format = ImageFormat.Jpeg } });
        decoded.Encode(avif);
        var one = new List<(double Cpu, double Wall)>();
        var all = new List<(double Cpu, double Wall)>();
        for (int rep = 0; rep < reps; rep++)
        {
            foreach (int threads in rep % 2 == 0 ? new[] { 1, Environment.ProcessorCount } : new[] { Environment.ProcessorCount, 1 })
            {
                NetVips.NetVips.Concurrency = threads;
                (threads == 1 ? one : all).Add(Bench.Measure(() => decoded.Encode(avif)));
            }
        }

        Console.WriteLine($"one AVIF encode, {width} wide, from pixels in memory");
        Console.WriteLine("| libvips threads | wall s | CPU s (user+sys) |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| 1 | {Bench.Median(one.Select(m => m.Wall)):F2} | {Bench.Median(one.Select(m => m.Cpu)):F2} |");
        Console.WriteLine($"| {Environment.ProcessorCount} | {Bench.Median(all.Select(m => m.Wall)):F2} | {Bench.Median(all.Select(m => m.Cpu)):F2} |");
    }
}

/// <summary>
/// A whole batch (ImageBatch, default parallelism) in this process, for its CPU time and peak RSS (VmHWM): the JPEG, PNG
/// and TIFF of <see cref="DecodeOnce"/> and flowers.jpeg, each at every width × format. "shared": the outputs of one
/// file share its decode; "copies": each output's source is a copy of its own, so every output decodes alone, as
/// before decode-once. Run each layout in its own process (peak RSS only grows).
/// </summary>
internal static class BatchRun
{
    public static void Run(string corpus, string layout, string[] formatNames, int[] widths)
    {
        byte[] jpeg = File.ReadAllBytes(Path.Combine(corpus, "2569067123_aca715a2ee_o.jpg"));
        byte[] png;
        byte[] tiff;
        using (Image full = Bench.Full(jpeg))
        {
            png = full.PngsaveBuffer();
            tiff = full.TiffsaveBuffer(compression: Enums.ForeignTiffCompression.Lzw);
        }

        var sources = new (string Name, byte[] Bytes)[] { ("photo.jpg", jpeg), ("photo.png", png), ("photo.tif", tiff), ("flowers.jpeg", File.ReadAllBytes(Path.Combine(corpus, "flowers.jpeg"))) };
        string root = Directory.CreateTempSubdirectory("koalapic-decode-once-").FullName;
        try
        {
            var requests = new List<ImageRequest>();
            var diagnostics = new List<Diagnostic>();
            foreach (var (name, bytes) in sources)
            {
                foreach (string format in formatNames)
                {
                    foreach (int width in widths)
                    {
                        string file = layout == "copies" ? $"{Path.GetFileNameWithoutExtension(name)}-{width}-{format}{Path.GetExtension(name)}" : name;
                        string path = Path.Combine(root, "src", file);
                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        if (!File.Exists(path))
                        {
                            File.WriteAllBytes(path, bytes);
                        }

                        var metadata = new Dictionary<string, string> { ["Format"] = format, ["Width"] = width.ToString(CultureInfo.InvariantCulture), ["Link"] = $"{name}-{width}.{format}" };
                        requests.Add(ImageRequest.TryCreate("src/" + file, path, root, key => metadata.TryGetValue(key, out string? v) ? v : "", Path.Combine(root, "p.csproj"), diagnostics)!);
                    }
                }
            }

            var settings = new BatchSettings(Path.Combine(root, "out"), Path.Combine(root, "state.json"), Path.Combine(root, "cache"), ImageBatch.DefaultParallelism);
            var (cpu, wall) = Bench.Measure(() =>
            {
                BatchResult result = new ImageBatch(settings).Run(requests);
                if (result.Converted != requests.Count)
                {
                    throw new InvalidOperationException($"{result.Converted} of {requests.Count} converted: {string.Join("; ", result.Items.Select(i => i.Diagnostic?.Message).OfType<string>())}");
                }
            });
            string hwm = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";
            Console.WriteLine($"| {layout} | {requests.Count} outputs of {sources.Length} files | CPU {cpu:F2} s | wall {wall:F2} s | peak RSS {hwm} |");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
