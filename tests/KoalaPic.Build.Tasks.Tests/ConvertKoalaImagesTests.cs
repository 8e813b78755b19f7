using Microsoft.Build.Framework;
using NetVips;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// ConvertKoalaImages run as plain code: real images from the shared corpus, the real libvips, a fake build engine.
/// What MSBuild receives: the output items (path, TargetPath, KoalaPic* metadata), the errors and warnings with their
/// code and file, the messages with their importance, and the result.
/// </summary>
public sealed class ConvertKoalaImagesTests
{
    [Fact]
    public void Converts_a_png_to_webp_and_hands_the_output_to_msbuild()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp"), ("Width", "32")));

        bool succeeded = task.Execute();

        Assert.True(succeeded, task.Engine().Log);
        Assert.Empty(task.Engine().Errors);
        Assert.Empty(task.Engine().Warnings);
        ITaskItem output = Assert.Single(task.ConvertedImages);
        Assert.True(File.Exists(output.ItemSpec), output.ItemSpec);
        Assert.StartsWith(project.IntermediateDirectory, output.ItemSpec, StringComparison.Ordinal);
        Assert.Equal(Path.Combine("img", "logo.webp"), output.GetMetadata("TargetPath"));
        Assert.Equal(source, output.GetMetadata("KoalaPicSource"));
        Assert.Equal("webp", output.GetMetadata("KoalaPicFormat"));
        Assert.Equal("32", output.GetMetadata("KoalaPicWidth"));
        Assert.Equal("VipsForeignLoadWebpFile", Image.FindLoad(output.ItemSpec));
        using Image decoded = Image.NewFromFile(output.ItemSpec);
        Assert.Equal(32, decoded.Width);
        Assert.Equal(int.Parse(output.GetMetadata("KoalaPicHeight")), decoded.Height);
        Assert.Equal(4, decoded.Bands);
        Assert.Equal(1, project.LastRun().ImageCount);
        Assert.Empty(task.WrittenFiles);
    }

    [Fact]
    public void Link_Format_list_and_Widths_each_become_an_output_item_with_its_own_TargetPath()
    {
        using var project = new TaskProject();
        string photo = project.AddFixture("Landscape_1.jpg", "photos/beach.jpg");
        string logo = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(
            TaskSupport.Item(photo, ("Format", "webp;avif"), ("Widths", "100;200")),
            TaskSupport.Item(logo, ("Format", "png"), ("Link", "wwwroot/brand/logo.png")));

        Assert.True(task.Execute(), task.Engine().Log);

        var byTarget = task.ConvertedImages.ToDictionary(i => i.GetMetadata("TargetPath"), StringComparer.Ordinal);
        string Native(string path) => path.Replace('/', Path.DirectorySeparatorChar);
        Assert.Equal(
            new[] { "photos/beach-100w.avif", "photos/beach-100w.webp", "photos/beach-200w.avif", "photos/beach-200w.webp", "wwwroot/brand/logo.png" }.Select(Native),
            byTarget.Keys.Order(StringComparer.Ordinal));
        foreach ((string target, ITaskItem item) in byTarget)
        {
            using Image decoded = Image.NewFromFile(item.ItemSpec);
            Assert.Equal(item.GetMetadata("KoalaPicWidth"), decoded.Width.ToString());
            Assert.Equal(item.GetMetadata("KoalaPicHeight"), decoded.Height.ToString());
            Assert.Equal(Path.GetExtension(target).TrimStart('.'), item.GetMetadata("KoalaPicFormat"));
        }

        Assert.Equal(photo, byTarget[Native("photos/beach-200w.webp")].GetMetadata("KoalaPicSource"));
        Assert.Equal(logo, byTarget[Native("wwwroot/brand/logo.png")].GetMetadata("KoalaPicSource"));
        Assert.Equal("100", byTarget[Native("photos/beach-100w.avif")].GetMetadata("KoalaPicWidth"));
        Assert.Equal(5, project.LastRun().ImageCount);
    }

    [Fact]
    public void Metadata_the_engine_does_not_read_is_not_passed_on()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        // MSBuild's well-known and user metadata ride on every item; only ImageRequest.MetadataNames reach the engine,
        // so a stray "Widht" cannot change anything (nor the cache key).
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp"), ("Widht", "abc"), ("CopyToOutputDirectory", "Always")));

        Assert.True(task.Execute(), task.Engine().Log);

        ITaskItem output = Assert.Single(task.ConvertedImages);
        using Image decoded = Image.NewFromFile(TaskSupport.Fixture("with-alpha.png"));
        Assert.Equal(decoded.Width.ToString(), output.GetMetadata("KoalaPicWidth"));
    }

    [Fact]
    public void Invalid_metadata_is_an_error_with_its_code_on_the_project_file_and_no_output()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "svgz")));

        Assert.False(task.Execute());

        BuildErrorEventArgs error = Assert.Single(task.Engine().Errors);
        Assert.Equal("KP1001", error.Code);
        Assert.Equal(project.ProjectFile, error.File);
        Assert.Contains("KoalaImage '" + source + "'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Format=\"svgz\"", error.Message, StringComparison.Ordinal);
        Assert.Empty(task.ConvertedImages);
        Assert.Empty(project.LastRun().Warnings);
    }

    [Fact]
    public void A_missing_source_is_an_error_on_the_source_and_the_other_items_still_convert()
    {
        using var project = new TaskProject();
        string present = project.AddFixture("with-alpha.png", "img/logo.png");
        string missing = Path.Combine("img", "hero.jgp");
        ConvertKoalaImages task = project.ConvertTask(
            TaskSupport.Item(missing, ("Format", "webp")),
            TaskSupport.Item(present, ("Format", "webp")));

        Assert.False(task.Execute());

        BuildErrorEventArgs error = Assert.Single(task.Engine().Errors);
        Assert.Equal("KP2001", error.Code);
        Assert.Equal(project.Path("img", "hero.jgp"), error.File);
        ITaskItem output = Assert.Single(task.ConvertedImages);
        Assert.Equal(present, output.GetMetadata("KoalaPicSource"));
        Assert.Contains(task.Engine().Messages, m => m.Importance == MessageImportance.High && m.Message!.Contains(", 1 failed", StringComparison.Ordinal));
    }

    [Fact]
    public void A_corrupt_image_is_a_warning_with_KoalaPicImageErrorsAsWarnings_and_the_task_succeeds()
    {
        using var project = new TaskProject();
        string corrupt = project.AddFixture("corrupt-header.jpg", "img/broken.jpg");
        ConvertKoalaImages strict = project.ConvertTask(TaskSupport.Item(corrupt, ("Format", "webp")));
        ConvertKoalaImages lenient = project.ConvertTask(TaskSupport.Item(corrupt, ("Format", "webp")));
        lenient.Properties = new[] { TaskExtensions.Property("KoalaPicImageErrorsAsWarnings", "true") };

        Assert.False(strict.Execute());
        Assert.True(lenient.Execute(), lenient.Engine().Log);

        BuildErrorEventArgs error = Assert.Single(strict.Engine().Errors);
        BuildWarningEventArgs warning = Assert.Single(lenient.Engine().Warnings);
        Assert.StartsWith("KP2", error.Code, StringComparison.Ordinal);
        Assert.Equal(error.Code, warning.Code);
        Assert.Equal(project.Path("img", "broken.jpg"), warning.File);
        Assert.Empty(lenient.Engine().Errors);
        Assert.Empty(lenient.ConvertedImages);
    }

    [Fact]
    public void An_invalid_property_is_an_error_on_the_project_file_naming_the_property()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp")));
        task.Properties = new[] { TaskExtensions.Property("KoalaPicMaxParallelism", "many") };

        Assert.False(task.Execute());

        BuildErrorEventArgs error = Assert.Single(task.Engine().Errors);
        Assert.StartsWith("KP", error.Code, StringComparison.Ordinal);
        Assert.Equal(project.ProjectFile, error.File);
        Assert.Contains("KoalaPicMaxParallelism", error.Message, StringComparison.Ordinal);
        Assert.Contains("many", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_larger_output_is_a_KP2013_warning_also_kept_in_the_record_of_the_run_for_skipped_builds()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("Landscape_1.jpg", "img/tight.jpg");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "png")));

        Assert.True(task.Execute(), task.Engine().Log);

        BuildWarningEventArgs warning = Assert.Single(task.Engine().Warnings);
        Assert.Equal("KP2013", warning.Code);
        Assert.Equal(project.Path("img", "tight.jpg"), warning.File);
        Assert.Contains("larger than its source", warning.Message, StringComparison.Ordinal);
        KoalaPic.Build.Engine.Diagnostic replay = Assert.Single(project.LastRun().Warnings);
        Assert.Equal("KP2013", replay.Code);
        Assert.Equal(warning.File, replay.File);
        Assert.Equal(warning.Message, replay.Message);
        Assert.Single(task.ConvertedImages);
    }

    [Fact]
    public void Progress_lines_are_normal_importance_and_the_summary_is_high_and_comes_last()
    {
        using var project = new TaskProject();
        string first = project.AddFixture("with-alpha.png", "img/a.png");
        string second = project.AddFixture("concert.jpg", "img/b.jpg");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(first, ("Format", "webp")), TaskSupport.Item(second, ("Format", "webp")));

        Assert.True(task.Execute(), task.Engine().Log);

        IReadOnlyList<LazyFormattedBuildEventArgs> events = task.Engine().Events;
        var summary = Assert.IsType<BuildMessageEventArgs>(events[^1]);
        Assert.Equal(MessageImportance.High, summary.Importance);
        Assert.StartsWith("KoalaPic: 2 images, 2 converted, 0 up to date, ", summary.Message, StringComparison.Ordinal);
        Assert.Single(events, e => e is BuildMessageEventArgs { Importance: MessageImportance.High });
        var progress = task.Engine().Messages.Where(m => m.Message!.StartsWith("KoalaPic: [", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, progress.Count);
        Assert.All(progress, p => Assert.Equal(MessageImportance.Normal, p.Importance));
        Assert.Contains(progress, p => p.Message!.Contains(first + " -> " + Path.Combine("img", "a.webp"), StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_run_finds_everything_up_to_date_and_hands_back_the_same_items()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages first = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp"), ("Width", "20")));
        ConvertKoalaImages second = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp"), ("Width", "20")));

        Assert.True(first.Execute(), first.Engine().Log);
        DateTime written = File.GetLastWriteTimeUtc(first.ConvertedImages[0].ItemSpec);
        Assert.True(second.Execute(), second.Engine().Log);

        Assert.Contains(second.Engine().Messages, m => m.Importance == MessageImportance.High && m.Message!.StartsWith("KoalaPic: 1 images, 0 converted, 1 up to date", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Engine().Messages, m => m.Message!.StartsWith("KoalaPic: [", StringComparison.Ordinal));
        ITaskItem again = Assert.Single(second.ConvertedImages);
        Assert.Equal(first.ConvertedImages[0].ItemSpec, again.ItemSpec);
        Assert.Equal(first.ConvertedImages[0].GetMetadata("TargetPath"), again.GetMetadata("TargetPath"));
        Assert.Equal(written, File.GetLastWriteTimeUtc(again.ItemSpec));
    }

    [Fact]
    public void Report_and_ZIP_paths_are_written_and_handed_back_for_Clean()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp")));
        task.Properties = new[]
        {
            TaskExtensions.Property("KoalaPicReportPath", "artifacts/images.json"),
            TaskExtensions.Property("KoalaPicZipPath", "artifacts/images.zip"),
        };

        Assert.True(task.Execute(), task.Engine().Log);

        string[] written = task.WrittenFiles.Select(f => f.ItemSpec).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { project.Path("artifacts", "images.json"), project.Path("artifacts", "images.zip") }, written);
        Assert.All(written, f => Assert.True(new FileInfo(f).Length > 0, f));
        using var zip = System.IO.Compression.ZipFile.OpenRead(written[1]);
        Assert.Equal("img/logo.webp", Assert.Single(zip.Entries).FullName);
    }

    [Fact]
    public void UrlBasePath_prefixes_the_manifest_urls()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "wwwroot/img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp")));
        task.UrlBasePath = "_content/Shop";

        Assert.True(task.Execute(), task.Engine().Log);

        string manifest = File.ReadAllText(Path.Combine(project.IntermediateDirectory, "koalapic.manifest.json"));
        Assert.Contains("/_content/Shop/img/logo.webp", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wildcard_in_a_declaring_file_that_matches_nothing_is_a_KP1023_warning_even_without_items()
    {
        using var project = new TaskProject();
        File.WriteAllText(project.ProjectFile, "<Project Sdk=\"Microsoft.NET.Sdk\">\n  <ItemGroup>\n    <KoalaImage Include=\"photos/*.jpg\" Format=\"webp\" />\n  </ItemGroup>\n</Project>\n");
        ConvertKoalaImages task = project.ConvertTask();

        Assert.True(task.Execute(), task.Engine().Log);

        BuildWarningEventArgs warning = Assert.Single(task.Engine().Warnings);
        Assert.Equal("KP1023", warning.Code);
        Assert.Equal(project.ProjectFile, warning.File);
        Assert.Contains("photos/*.jpg", warning.Message, StringComparison.Ordinal);
        Assert.Empty(task.ConvertedImages);
    }

    [Fact]
    public void Without_items_or_earlier_outputs_the_task_does_nothing_and_says_nothing()
    {
        using var project = new TaskProject();
        ConvertKoalaImages task = project.ConvertTask();

        Assert.True(task.Execute());

        Assert.Empty(task.Engine().Events);
        Assert.Empty(task.ConvertedImages);
        Assert.Empty(task.WrittenFiles);
        Assert.False(Directory.Exists(project.IntermediateDirectory), "nothing is written under obj/ for a project without images");
    }

    [Fact]
    public void Without_items_the_outputs_of_an_earlier_run_are_deleted_and_logged_at_low_importance()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages first = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp")));
        Assert.True(first.Execute(), first.Engine().Log);
        string earlier = first.ConvertedImages.Single().ItemSpec;

        ConvertKoalaImages empty = project.ConvertTask();
        Assert.True(empty.Execute(), empty.Engine().Log);

        Assert.False(File.Exists(earlier), earlier);
        Assert.Empty(empty.ConvertedImages);
        Assert.Empty(empty.Engine().Errors);
        Assert.Contains(empty.Engine().Messages, m => m.Importance == MessageImportance.Low && m.Message!.Contains("deleted", StringComparison.Ordinal));
        Assert.Contains(empty.Engine().Messages, m => m.Importance == MessageImportance.High && m.Message!.StartsWith("KoalaPic: 0 images", StringComparison.Ordinal));
    }

    [Fact]
    public void Cancelled_before_it_starts_the_task_fails_with_KP0002_and_writes_no_output()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp")));

        task.Cancel();
        Assert.False(task.Execute());

        BuildWarningEventArgs warning = Assert.Single(task.Engine().Warnings);
        Assert.Equal("KP0002", warning.Code);
        Assert.Empty(task.Engine().Errors);
        Assert.Empty(task.ConvertedImages);
        Assert.False(Directory.Exists(Path.Combine(project.IntermediateDirectory, "out")) && Directory.EnumerateFiles(Path.Combine(project.IntermediateDirectory, "out"), "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void Cancelled_while_converting_it_keeps_whole_outputs_and_the_next_run_converts_the_rest()
    {
        using var project = new TaskProject();
        ITaskItem[] items = Enumerable.Range(1, 8)
            .Select(i => TaskSupport.Item(project.AddFixture($"Landscape_{i}.jpg", $"img/l{i}.jpg"), ("Format", "webp")))
            .ToArray();
        ConvertKoalaImages cancelled = project.ConvertTask(items);
        cancelled.Properties = new[] { TaskExtensions.Property("KoalaPicMaxParallelism", "1") };
        // Ctrl+C as MSBuild delivers it: Cancel() from another thread while the task runs, here on the first progress line.
        cancelled.Engine().OnEvent = e =>
        {
            if (e.Message?.StartsWith("KoalaPic: [1/8]", StringComparison.Ordinal) == true)
            {
                cancelled.Cancel();
            }
        };

        Assert.False(cancelled.Execute());

        Assert.Equal("KP0002", Assert.Single(cancelled.Engine().Warnings).Code);
        Assert.Empty(cancelled.Engine().Errors);
        string outFolder = Path.Combine(project.IntermediateDirectory, "out");
        string[] kept = Directory.EnumerateFiles(outFolder, "*", SearchOption.AllDirectories).ToArray();
        Assert.InRange(kept.Length, 1, 7);
        foreach (string file in kept)
        {
            using Image decoded = Image.NewFromFile(file);
            Assert.True(decoded.Avg() >= 0, file); // decodes whole: no truncated file is left behind
        }

        ConvertKoalaImages next = project.ConvertTask(items);
        Assert.True(next.Execute(), next.Engine().Log);
        Assert.Equal(8, next.ConvertedImages.Length);
        Assert.Contains(next.Engine().Messages, m => m.Message!.StartsWith($"KoalaPic: 8 images, {8 - kept.Length} converted, {kept.Length} up to date", StringComparison.Ordinal));
    }
}

/// <summary>
/// ConvertKoalaImages with KoalaPicOutOfProcess: the job runs in the real koalapic process (built without natives, as
/// in the package), which loads libvips from the NuGet folder the task names, and the task logs what it streams back.
/// </summary>
public sealed class ConvertKoalaImagesOutOfProcessTests
{
    [Fact]
    public void Out_of_process_the_task_hands_back_the_same_items_and_logs_the_process_lines()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        string missing = Path.Combine("img", "gone.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp"), ("Width", "24")), TaskSupport.Item(missing, ("Format", "webp")));
        string nuget = TaskSupport.Metadata("NuGetPackageRoot");
        Engine.NativeHost host = Engine.NativeHost.Current;
        task.OutOfProcess = true;
        task.EngineProcessPath = TaskSupport.Metadata("KoalapicPath");
        task.HostRuntimeIdentifier = host.RuntimeIdentifier;
        task.LibvipsDirectory = Engine.NativeResolver.PackageNativeFolder(Path.Combine(nuget, "netvips.native." + host.RuntimeIdentifier, Engine.VipsRuntime.BundledLibvipsVersion), host);

        Assert.False(task.Execute());

        BuildErrorEventArgs error = Assert.Single(task.Engine().Errors);
        Assert.Equal("KP2001", error.Code);
        Assert.Equal(project.Path("img", "gone.png"), error.File);
        ITaskItem output = Assert.Single(task.ConvertedImages);
        Assert.Equal(Path.Combine("img", "logo.webp"), output.GetMetadata("TargetPath"));
        Assert.Equal("24", output.GetMetadata("KoalaPicWidth"));
        using Image decoded = Image.NewFromFile(output.ItemSpec);
        Assert.Equal(24, decoded.Width);
        string log = task.Engine().Log;
        Assert.True(task.Engine().Messages.Any(m => m.Importance == MessageImportance.Normal && m.Message!.StartsWith("KoalaPic: [", StringComparison.Ordinal) && m.Message.Contains("/2] " + source + " -> ", StringComparison.Ordinal)), log);
        Assert.True(task.Engine().Messages.Any(m => m.Importance == MessageImportance.High && m.Message!.StartsWith("KoalaPic: 2 images, 1 converted, 0 up to date, 1 failed", StringComparison.Ordinal)), log);
        Assert.Empty(Directory.EnumerateFiles(project.IntermediateDirectory, "job.*.json"));
    }
}
