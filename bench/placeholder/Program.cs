using System.Diagnostics;
using System.Globalization;
using KoalaPic.Build.Engine;

// For each image: one conversion without a placeholder, with Placeholder="color", "blur" and "thumbhash", the
// median of several repetitions, in CPU time of the process (all libvips threads) and wall time. The difference is
// what a placeholder costs on top of the conversion that makes it.
// With "picture" as the first argument, draws docs/placeholders.png instead (see PlaceholderPicture.cs).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
VipsRuntime.EnsureInitialized(1);
if (args.Length > 0 && args[0] == "picture")
{
    PlaceholderPicture.Draw(args[1], args[2], args[3]);
    return;
}

string corpus = args.Length > 0 ? args[0] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/corpus/fixtures"));
int reps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
int? width = args.Length <= 2 ? 480 : args[2] == "none" ? null : int.Parse(args[2], CultureInfo.InvariantCulture);
string[] images = args.Length > 3 ? args[3].Split(',') : new[]
{
    "2569067123_aca715a2ee_o.jpg", "flowers.jpeg", "concert.jpg", "Landscape_1.jpg", "4.webp",
    "gradients-rgb8.png", "with-alpha.png", "Flag_of_the_Netherlands-16bit.png",
};

var process = Process.GetCurrentProcess();
(double Cpu, double Wall) Median(Func<object?> run)
{
    run(); // warm-up
    var samples = new List<(double, double)>();
    for (int i = 0; i < reps; i++)
    {
        process.Refresh();
        TimeSpan cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        run();
        wall.Stop();
        process.Refresh();
        samples.Add(((process.TotalProcessorTime - cpu).TotalMilliseconds, wall.Elapsed.TotalMilliseconds));
    }

    return (samples.Select(s => s.Item1).OrderBy(x => x).ElementAt(reps / 2), samples.Select(s => s.Item2).OrderBy(x => x).ElementAt(reps / 2));
}

Console.WriteLine($"width {(width?.ToString(CultureInfo.InvariantCulture) ?? "original")}, webp q85, median of {reps}; ms CPU / ms wall");
Console.WriteLine($"{"image",-36} {"none",14} {"color",14} {"blur",14} {"thumbhash",14} {"+color",8} {"+blur",8} {"+thumbhash",10} blur chars, thumbhash chars (hash + data URI)");
foreach (string name in images)
{
    byte[] source = File.ReadAllBytes(Path.Combine(corpus, name));
    var options = new ConversionOptions(ImageFormat.Webp, 85, width, null);
    var none = Median(() => ImageConverter.Convert(source, options));
    var colour = Median(() => ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.Color));
    var blur = Median(() => ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.Blur));
    var thumbHash = Median(() => ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.ThumbHash));
    int chars = ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.Blur).Placeholder!.Blur!.Length;
    ImagePlaceholder hashed = ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.ThumbHash).Placeholder!;
    Console.WriteLine($"{name,-36} {none.Cpu,6:0.0}/{none.Wall,6:0.0} {colour.Cpu,6:0.0}/{colour.Wall,6:0.0} {blur.Cpu,6:0.0}/{blur.Wall,6:0.0} {thumbHash.Cpu,6:0.0}/{thumbHash.Wall,6:0.0} {colour.Cpu - none.Cpu,8:+0.0;-0.0} {blur.Cpu - none.Cpu,8:+0.0;-0.0} {thumbHash.Cpu - none.Cpu,10:+0.0;-0.0} {chars}, {hashed.ThumbHash!.Length} + {hashed.ThumbHashDataUri!.Length}");
}
