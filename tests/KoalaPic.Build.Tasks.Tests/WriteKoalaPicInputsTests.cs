using Microsoft.Build.Framework;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>WriteKoalaPicInputs: the file the convert target's Inputs list, rewritten only when what it records changes.</summary>
public sealed class WriteKoalaPicInputsTests
{
    private static WriteKoalaPicInputs Task(TaskProject project, params ITaskItem[] images) => new()
    {
        BuildEngine = new FakeBuildEngine { ProjectFileOfTaskNode = project.ProjectFile },
        Images = images,
        ProjectDirectory = project.Directory,
        File = Path.Combine(project.IntermediateDirectory, "inputs.txt"),
        Values = new[] { "outdir=bin/" },
    };

    [Fact]
    public void Records_items_metadata_and_sources_and_keeps_the_file_when_nothing_changed()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        WriteKoalaPicInputs first = Task(project, TaskSupport.Item(source, ("Format", "webp")));

        Assert.True(first.Execute());
        string text = File.ReadAllText(first.File);
        Assert.Contains("item " + source + "\n", text, StringComparison.Ordinal);
        Assert.Contains("  Format=webp\n", text, StringComparison.Ordinal);
        Assert.Contains("  source 1362 ", text, StringComparison.Ordinal);
        Assert.Contains("outdir=bin/\n", text, StringComparison.Ordinal);
        File.SetLastWriteTimeUtc(first.File, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.True(Task(project, TaskSupport.Item(source, ("Format", "webp"))).Execute());
        Assert.Equal(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(first.File));

        Assert.True(Task(project, TaskSupport.Item(source, ("Format", "avif"))).Execute());
        Assert.NotEqual(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(first.File));
        Assert.Empty(first.Engine().Events);
    }

    [Fact]
    public void An_unpinned_Url_makes_the_target_always_run_and_its_credentials_are_never_written()
    {
        using var project = new TaskProject();
        WriteKoalaPicInputs unpinned = Task(project, TaskSupport.Item("img/remote.jpg", ("Url", "https://user:secret@example.com/a.jpg"), ("Format", "webp")));
        WriteKoalaPicInputs pinned = Task(project, TaskSupport.Item("img/remote.jpg", ("Url", "https://example.com/a.jpg"), ("Sha256", new string('a', 64))));

        Assert.True(unpinned.Execute());
        string text = File.ReadAllText(unpinned.File);
        Assert.True(pinned.Execute());

        Assert.True(unpinned.HasUnpinnedUrl);
        Assert.False(pinned.HasUnpinnedUrl);
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
        Assert.Contains("example.com/a.jpg", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_of_a_last_output_that_is_now_a_link_leading_outside_OutDir_makes_the_target_run()
    {
        using var project = new TaskProject();
        using var outside = new TaskProject();
        Directory.CreateDirectory(project.Path("bin", "img"));
        WriteKoalaPicInputs plain = Task(project);
        plain.OutputDirectory = "bin/";
        plain.LastTargetPaths = new[] { "img/logo.webp" };
        Assert.True(plain.Execute());
        Assert.False(plain.OutputThroughLink);

        Directory.Delete(project.Path("bin", "img"));
        Directory.CreateSymbolicLink(project.Path("bin", "img"), outside.Directory);
        WriteKoalaPicInputs linked = Task(project);
        linked.OutputDirectory = "bin/";
        linked.LastTargetPaths = new[] { "img/logo.webp" };
        Assert.True(linked.Execute());
        Assert.True(linked.OutputThroughLink);
    }
}
