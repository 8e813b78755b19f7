using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// PrepareKoalaPicRun: the job folder's paths, the inputs file (rewritten only when what it records changes), the
/// decision whether the converter runs, the last run's items handed back escaped as MSBuild expects, and the replay of
/// its warnings and summary.
/// </summary>
public sealed class PrepareKoalaPicRunTests
{
    private static PrepareKoalaPicRun Task(TaskProject project, params ITaskItem[] images) => new()
    {
        BuildEngine = new FakeBuildEngine { ProjectFileOfTaskNode = project.ProjectFile },
        Images = images,
        ProjectDirectory = project.Directory,
        IntermediateOutputPath = "obj/Debug/net10.0/",
        BaseIntermediateOutputPath = "obj/",
        OutputDirectory = project.OutputDirectory,
        Values = new[] { "outdir=bin/" },
    };

    private static JobLayout Layout(TaskProject project) => new(project.IntermediateDirectory);

    /// <summary>A build that converts, as the targets run it: prepare, the real converter, then the stamp.</summary>
    private static ConvertKoalaImages Convert(TaskProject project, params ITaskItem[] images) => Convert(project, Array.Empty<ITaskItem>(), images);

    /// <summary>The same, with KoalaPic* properties (<see cref="TaskExtensions.Property"/>) for the converter.</summary>
    private static ConvertKoalaImages Convert(TaskProject project, ITaskItem[] properties, params ITaskItem[] images)
    {
        Assert.True(Task(project, images).Execute());
        ConvertKoalaImages convert = project.ConvertTask(images);
        convert.Properties = properties;
        Assert.True(convert.Execute(), convert.Engine().Log);
        File.WriteAllText(Layout(project).StampFile, "");
        File.SetLastWriteTimeUtc(Layout(project).StampFile, DateTime.UtcNow.AddSeconds(5)); // later than every input
        return convert;
    }

    [Fact]
    public void Hands_the_targets_every_path_of_the_job_folder_from_JobLayout()
    {
        using var project = new TaskProject();
        PrepareKoalaPicRun task = Task(project);

        Assert.True(task.Execute(), task.Engine().Log);

        JobLayout layout = Layout(project);
        Assert.Equal(layout.Directory, task.JobDirectory);
        Assert.Equal(layout.OutputDirectory, task.JobOutputDirectory);
        Assert.Equal(layout.ManifestFile, task.ManifestFile);
        Assert.Equal(layout.ServedDirectory, task.ServedDirectory);
        Assert.Equal(layout.ServedManifestFile, task.ServedManifestFile);
        Assert.Equal(layout.StampFile, task.StampFile);
        Assert.Equal(layout.NativesRestoreDirectory, task.NativesRestoreDirectory);
        Assert.Equal(project.CacheDirectory, task.ResolvedCacheDirectory);
        Assert.Equal(project.CacheDirectory, task.DefaultCacheDirectory);
        Assert.True(File.Exists(layout.InputsFile));

        PrepareKoalaPicRun own = Task(project);
        own.CacheDirectory = "../shared-cache";
        Assert.True(own.Execute());
        Assert.Equal(Path.GetFullPath(Path.Combine(project.Directory, "..", "shared-cache")) + Path.DirectorySeparatorChar, own.ResolvedCacheDirectory);
        Assert.Equal("", own.DefaultCacheDirectory);
    }

    [Theory]
    [InlineData("img/logo.png", "Format", "webp", false)]
    [InlineData("img/logo.png", "Format", "avif;ico", true)]
    [InlineData("img/logo.png", "Format", "PDF", true)]
    [InlineData("img/logo.png", "OptimizeFor", "favicon", true)]
    [InlineData("img/logo.png", "OptimizeFor", "open-graph", false)]
    [InlineData("img/iphone.HEIC", "Format", "webp", true)]
    public void Tells_the_targets_whether_an_item_needs_ImageMagick_from_the_format_descriptors(string include, string name, string value, bool needed)
    {
        using var project = new TaskProject();
        PrepareKoalaPicRun task = Task(project, TaskSupport.Item(include, (name, value)), TaskSupport.Item("img/other.png", ("Format", "webp")));

        Assert.True(task.Execute(), task.Engine().Log);

        Assert.Equal(needed, task.NeedsImageMagick);
    }

    [Fact]
    public void Records_items_metadata_sources_and_settings_and_keeps_the_file_when_nothing_changed()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        string inputs = Layout(project).InputsFile;

        Assert.True(Task(project, TaskSupport.Item(source, ("Format", "webp"))).Execute());
        string text = File.ReadAllText(inputs);
        Assert.Contains("item " + source + "\n", text, StringComparison.Ordinal);
        Assert.Contains("  Format=webp\n", text, StringComparison.Ordinal);
        Assert.Contains("  source 1362 ", text, StringComparison.Ordinal);
        Assert.Contains("outdir=bin/\n", text, StringComparison.Ordinal);
        Assert.Contains("cache=" + project.CacheDirectory + "\n", text, StringComparison.Ordinal);
        var past = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(inputs, past);

        Assert.True(Task(project, TaskSupport.Item(source, ("Format", "webp"))).Execute());
        Assert.Equal(past, File.GetLastWriteTimeUtc(inputs));

        Assert.True(Task(project, TaskSupport.Item(source, ("Format", "avif"))).Execute());
        Assert.NotEqual(past, File.GetLastWriteTimeUtc(inputs));
    }

    [Fact]
    public void Without_a_record_the_converter_runs_and_with_one_from_an_unchanged_project_it_does_not()
    {
        using var project = new TaskProject();
        ITaskItem image = TaskSupport.Item(project.AddFixture("with-alpha.png", "img/logo.png"), ("Format", "webp"));

        PrepareKoalaPicRun first = Task(project, image);
        Assert.True(first.Execute());
        Assert.True(first.ConverterNeeded);
        Assert.Contains(first.ConverterOutputs, o => o.ItemSpec == Layout(project).NeverFile);
        Assert.Contains(first.ConverterInputs, i => i.ItemSpec == image.ItemSpec);
        Assert.Contains(first.ConverterInputs, i => i.ItemSpec == Layout(project).InputsFile);

        ConvertKoalaImages convert = Convert(project, image);
        PrepareKoalaPicRun second = Task(project, image);
        Assert.True(second.Execute(), second.Engine().Log);

        Assert.False(second.ConverterNeeded, second.Engine().Log);
        Assert.Equal(new[] { Layout(project).StampFile }, second.ConverterOutputs.Select(o => o.ItemSpec));
        ITaskItem output = Assert.Single(second.LastOutputs);
        ITaskItem converted = Assert.Single(convert.ConvertedImages);
        Assert.Equal(converted.ItemSpec, output.ItemSpec);
        foreach (string name in new[] { "TargetPath", "KoalaPicSource", "KoalaPicFormat", "KoalaPicWidth", "KoalaPicHeight" })
        {
            Assert.Equal(converted.GetMetadata(name), output.GetMetadata(name));
        }
    }

    [Fact]
    public void A_skipped_run_logs_each_warning_of_the_last_run_once_and_its_summary()
    {
        using var project = new TaskProject();
        ITaskItem tight = TaskSupport.Item(project.AddFixture("Landscape_1.jpg", "img/tight.jpg"), ("Format", "png"));
        ITaskItem other = TaskSupport.Item(project.AddFixture("Landscape_2.jpg", "img/other.jpg"), ("Format", "png"));
        ConvertKoalaImages convert = Convert(project, tight, other);

        PrepareKoalaPicRun replay = Task(project, tight, other);
        Assert.True(replay.Execute(), replay.Engine().Log);

        Assert.False(replay.ConverterNeeded, replay.Engine().Log);
        Assert.Equal(
            convert.Engine().Warnings.Select(w => (w.Code, w.File, w.Message)),
            replay.Engine().Warnings.Select(w => (w.Code, w.File, w.Message)));
        Assert.NotEmpty(replay.Engine().Warnings);
        BuildMessageEventArgs summary = Assert.Single(replay.Engine().Messages, m => m.Importance == MessageImportance.High);
        Assert.Equal("KoalaPic: 2 images, 0 converted, 2 up to date, nothing to convert (nothing changed since the last build)", summary.Message);
    }

    /// <summary>
    /// KP4020 was true of the last run's exchange with the server; a skipped run has none (it never asks the server, which
    /// may be back), so it repeats the items' warnings but not that one.
    /// </summary>
    [Fact]
    public void A_skipped_run_does_not_repeat_the_last_runs_remote_cache_warning_but_repeats_the_items_warnings()
    {
        using var project = new TaskProject();
        ITaskItem tight = TaskSupport.Item(project.AddFixture("Landscape_1.jpg", "img/tight.jpg"), ("Format", "png"));
        ITaskItem remote = TaskExtensions.Property("KoalaPicRemoteCache", "http://127.0.0.1:" + RefusedPort() + "/koalapic/");
        ConvertKoalaImages convert = Convert(project, new[] { remote }, tight);
        Assert.Contains(convert.Engine().Warnings, w => w.Code == DiagnosticCodes.RemoteCacheFailed);

        PrepareKoalaPicRun replay = Task(project, tight);
        Assert.True(replay.Execute(), replay.Engine().Log);

        Assert.False(replay.ConverterNeeded, replay.Engine().Log);
        Assert.Equal(
            convert.Engine().Warnings.Where(w => w.Code != DiagnosticCodes.RemoteCacheFailed).Select(w => (w.Code, w.File, w.Message)),
            replay.Engine().Warnings.Select(w => (w.Code, w.File, w.Message)));
        Assert.NotEmpty(replay.Engine().Warnings);
    }

    /// <summary>A loopback port nothing listens on: the connection is refused at once.</summary>
    private static int RefusedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public void A_source_newer_than_the_stamp_or_a_missing_output_or_KoalaPicIncremental_false_makes_the_converter_run()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ITaskItem image = TaskSupport.Item(source, ("Format", "webp"));
        ConvertKoalaImages convert = Convert(project, image);

        PrepareKoalaPicRun off = Task(project, image);
        off.Incremental = "False";
        Assert.True(off.Execute());
        Assert.True(off.ConverterNeeded);

        File.SetLastWriteTimeUtc(project.Path(source), DateTime.UtcNow.AddMinutes(1));
        PrepareKoalaPicRun touched = Task(project, image);
        Assert.True(touched.Execute());
        Assert.True(touched.ConverterNeeded);
        Assert.Empty(touched.Engine().Warnings);
        Assert.DoesNotContain(touched.Engine().Messages, m => m.Importance == MessageImportance.High);

        Convert(project, image);
        File.Delete(convert.ConvertedImages[0].ItemSpec);
        PrepareKoalaPicRun missing = Task(project, image);
        Assert.True(missing.Execute());
        Assert.True(missing.ConverterNeeded);
        Assert.Contains(missing.Engine().Messages, m => m.Message!.Contains("is missing", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unpinned_Url_makes_the_converter_always_run_and_its_credentials_are_never_written()
    {
        using var project = new TaskProject();
        PrepareKoalaPicRun unpinned = Task(project, TaskSupport.Item("img/remote.jpg", ("Url", "https://user:secret@example.com/a.jpg"), ("Format", "webp")));
        new LastRun().Write(Layout(project).LastRunFile);
        File.WriteAllText(Layout(project).StampFile, "");

        Assert.True(unpinned.Execute());
        string text = File.ReadAllText(Layout(project).InputsFile);

        Assert.True(unpinned.ConverterNeeded);
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
        Assert.Contains("example.com/a.jpg", text, StringComparison.Ordinal);
        Assert.DoesNotContain(unpinned.ConverterInputs, i => i.ItemSpec == "img/remote.jpg"); // a Url item has no local input
    }

    [Fact]
    public void A_folder_of_a_last_output_that_is_now_a_link_leading_outside_OutDir_makes_the_converter_run()
    {
        using var project = new TaskProject();
        using var outside = new TaskProject();
        ITaskItem image = TaskSupport.Item(project.AddFixture("with-alpha.png", "img/logo.png"), ("Format", "webp"));
        Convert(project, image);
        Directory.CreateDirectory(project.Path("bin", "Debug", "net10.0", "img"));
        PrepareKoalaPicRun plain = Task(project, image);
        Assert.True(plain.Execute());
        Assert.False(plain.ConverterNeeded, plain.Engine().Log);

        Directory.Delete(project.Path("bin", "Debug", "net10.0", "img"));
        Directory.CreateSymbolicLink(project.Path("bin", "Debug", "net10.0", "img"), outside.Directory);
        PrepareKoalaPicRun linked = Task(project, image);
        Assert.True(linked.Execute());
        Assert.True(linked.ConverterNeeded);
    }

    [Theory]
    [InlineData("..%2F..%2F..%2Fetc%2Fsecret|leak.webp")]
    [InlineData("pct%20sp;semi%3B$(Configuration)@(Compile)*'q\".webp")]
    [InlineData("new\nline.webp")]
    public void Hostile_names_are_handed_to_MSBuild_escaped_so_that_it_reads_them_back_unchanged(string name)
    {
        using var project = new TaskProject();
        JobLayout layout = Layout(project);
        string file = Path.Combine(layout.OutputDirectory, "img", name);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "x");
        new LastRun { Outputs = { new JobOutput(file, "img/" + name, "img/" + name, "webp", 1, 1) } }.Write(layout.LastRunFile);

        PrepareKoalaPicRun task = Task(project);
        Assert.True(task.Execute(), task.Engine().Log);

        ITaskItem item = Assert.Single(task.LastOutputs);
        Assert.Equal(file, item.ItemSpec);
        Assert.Equal(Path.Combine("img", name), item.GetMetadata("TargetPath"));
        Assert.Equal("img/" + name, item.GetMetadata("KoalaPicSource"));
        // What MSBuild stores: escaped, so that it unescapes to the name and never to '/', ';' or an expansion.
        string escaped = ((ITaskItem2)item).EvaluatedIncludeEscaped;
        Assert.DoesNotContain("%2F", escaped.Replace("%252F", ""), StringComparison.Ordinal);
        Assert.DoesNotContain("$(", escaped, StringComparison.Ordinal);
        Assert.DoesNotContain(";", escaped, StringComparison.Ordinal);
        Assert.Equal(name.Contains('%', StringComparison.Ordinal), escaped.Contains("%25", StringComparison.Ordinal));
    }

    [Fact]
    public void An_output_whose_TargetPath_would_lead_out_of_the_output_folder_is_not_handed_over_and_the_converter_runs()
    {
        using var project = new TaskProject();
        JobLayout layout = Layout(project);
        Directory.CreateDirectory(layout.OutputDirectory);
        string file = Path.Combine(layout.OutputDirectory, "b.webp");
        File.WriteAllText(file, "x");
        new LastRun { Outputs = { new JobOutput(file, "img/../../escaped.webp", "img/b.png", "webp", 1, 1) } }.Write(layout.LastRunFile);
        File.WriteAllText(layout.StampFile, "");

        PrepareKoalaPicRun task = Task(project);
        Assert.True(task.Execute(), task.Engine().Log);

        Assert.Empty(task.LastOutputs);
        Assert.True(task.ConverterNeeded);
    }

    [Theory]
    [InlineData("img/../../escaped.webp", "leads outside the output folder")]
    [InlineData("/etc/escaped.webp", "leads outside the output folder")]
    [InlineData("a\\b.webp", "MSBuild would read its TargetPath as")]
    public void An_output_MSBuild_would_read_differently_or_place_outside_is_KP3004_naming_the_item(string targetPath, string why)
    {
        if (Path.DirectorySeparatorChar == '\\' && targetPath.Contains('\\', StringComparison.Ordinal))
        {
            return; // on Windows '\\' is a separator, read back as it is
        }

        using var project = new TaskProject();
        string file = Path.Combine(new JobLayout(project.IntermediateDirectory).OutputDirectory, "b.webp");

        ITaskItem? item = TaskItems.Output(new JobOutput(file, targetPath, "img/b.png", "webp", 1, 1), project.Directory, TaskItems.OutputRoot(project.Directory, project.OutputDirectory), out Diagnostic? problem);

        Assert.Null(item);
        Assert.NotNull(problem);
        Assert.Equal(DiagnosticCodes.NameNotCarried, problem!.Code);
        Assert.Equal(DiagnosticSeverity.Error, problem.Severity);
        Assert.Contains("KoalaImage 'img/b.png'", problem.Message, StringComparison.Ordinal);
        Assert.Contains(why, problem.Message, StringComparison.Ordinal);
        Assert.Equal(project.Path("img", "b.png"), problem.File);
    }

    [Fact]
    public void With_static_web_assets_the_content_type_of_every_format_comes_from_its_descriptor()
    {
        using var project = new TaskProject();
        PrepareKoalaPicRun plain = Task(project);
        PrepareKoalaPicRun web = Task(project);
        web.StaticWebAssets = true;

        Assert.True(plain.Execute());
        Assert.True(web.Execute());

        Assert.Empty(plain.ContentTypes);
        Assert.Equal(
            ImageFormats.All.Select(f => (f.MimeType, "*" + f.Extension)),
            web.ContentTypes.Select(t => (t.ItemSpec, t.GetMetadata("Pattern"))));
        Assert.Contains(web.ContentTypes, t => t.ItemSpec == "image/jxl" && t.GetMetadata("Pattern") == "*.jxl");
    }

    [Fact]
    public void An_unchanged_project_hands_the_convert_target_only_the_inputs_file()
    {
        using var project = new TaskProject();
        ITaskItem image = TaskSupport.Item(project.AddFixture("with-alpha.png", "img/logo.png"), ("Format", "webp"));
        Convert(project, image);

        PrepareKoalaPicRun again = Task(project, image);
        Assert.True(again.Execute(), again.Engine().Log);

        Assert.False(again.ConverterNeeded, again.Engine().Log);
        Assert.Equal(new[] { Layout(project).InputsFile }, again.ConverterInputs.Select(i => i.ItemSpec));
        Assert.StartsWith("# KoalaPic: ", File.ReadAllText(Layout(project).InputsFile), StringComparison.Ordinal);
    }
}
