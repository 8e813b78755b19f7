using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tasks;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// The output items a no-op build hands MSBuild are KoalaPic's own lean <see cref="ITaskItem2"/>: MSBuild must read
/// them exactly as it read the <see cref="TaskItem"/>s they replace.
/// </summary>
public sealed class OutputItemTests
{
    private const string HostileName = "pct%20sp;semi%3B$(Configuration)@(Compile)*'q.webp";

    [Fact]
    public void MSBuild_reads_an_output_item_as_it_reads_a_TaskItem_with_the_same_spec_and_metadata()
    {
        using var project = new TaskProject();
        string file = Path.Combine(project.IntermediateDirectory, "out", "img", HostileName);
        ITaskItem item = Handed(project, new JobOutput(file, "img/" + HostileName, "img/" + HostileName, "webp", 480, 320));

        var reference = new TaskItem(TaskItems.Escape(file));
        reference.SetMetadata("TargetPath", TaskItems.Escape(Path.Combine("img", HostileName)));
        reference.SetMetadata("KoalaPicSource", TaskItems.Escape("img/" + HostileName));
        reference.SetMetadata("KoalaPicFormat", "webp");
        reference.SetMetadata("KoalaPicWidth", "480");
        reference.SetMetadata("KoalaPicHeight", "320");

        Assert.Equal(reference.ItemSpec, item.ItemSpec);
        Assert.Equal(((ITaskItem2)reference).EvaluatedIncludeEscaped, ((ITaskItem2)item).EvaluatedIncludeEscaped);
        Assert.Equal(Escaped(reference), Escaped(item));
        Assert.Equal(Unescaped(reference), Unescaped(item));
        foreach (string name in new[] { "TargetPath", "KoalaPicSource", "targetpath", "FullPath", "Filename", "Extension" })
        {
            Assert.Equal(reference.GetMetadata(name), item.GetMetadata(name));
        }

        // MSBuild's copy of an ITaskItem2 (as the Utilities TaskItem's own copy constructor makes it) is the same item.
        var copy = new TaskItem(item);
        Assert.Equal(reference.ItemSpec, copy.ItemSpec);
        Assert.Equal(Unescaped(reference), Unescaped(copy).Where(m => m.Key != "OriginalItemSpec"));
    }

    [Fact]
    public void The_escaped_metadata_enumerate_as_key_value_pairs_as_MSBuild_reads_them()
    {
        using var project = new TaskProject();
        ITaskItem2 item = (ITaskItem2)Handed(project, new JobOutput(Path.Combine(project.IntermediateDirectory, "out", "a.webp"), "a.webp", "a.png", "webp", null, null));

        // MSBuild reads an ITaskItem2's metadata with .Cast<KeyValuePair<string, string>>(), older versions as DictionaryEntry.
        var pairs = item.CloneCustomMetadataEscaped().Cast<KeyValuePair<string, string>>().ToDictionary(p => p.Key, p => p.Value);
        var entries = Entries(item.CloneCustomMetadataEscaped());

        Assert.Equal(new Dictionary<string, string> { ["TargetPath"] = "a.webp", ["KoalaPicSource"] = "a.png", ["KoalaPicFormat"] = "webp" }, pairs);
        Assert.Equal(new SortedDictionary<string, string>(pairs, StringComparer.OrdinalIgnoreCase), entries);
    }

    [Fact]
    public void Metadata_can_be_set_and_removed_as_on_any_item()
    {
        using var project = new TaskProject();
        ITaskItem2 item = (ITaskItem2)Handed(project, new JobOutput(Path.Combine(project.IntermediateDirectory, "out", "a.webp"), "a.webp", "a.png", "webp", 1, 1));

        item.SetMetadata("Extra", "a%3Bb");
        item.SetMetadataValueLiteral("Literal", "c;d");
        item.RemoveMetadata("koalapicwidth");

        Assert.Equal("a;b", item.GetMetadata("Extra"));
        Assert.Equal("c;d", item.GetMetadata("Literal"));
        Assert.Equal("c%3bd", item.GetMetadataValueEscaped("Literal"), ignoreCase: true);
        Assert.Equal("", item.GetMetadata("KoalaPicWidth"));
        Assert.Equal(6, item.MetadataCount);
    }

    /// <summary>Plain relative TargetPaths take a fast check; any other form the full one: both must say the same.</summary>
    [Theory]
    [InlineData("img/a.webp", true)]
    [InlineData("img/sub dir/a b.webp", true)]
    [InlineData("img/./a.webp", true)]
    [InlineData("img//a.webp", true)]
    [InlineData(".well-known/a.webp", true)]
    [InlineData("img/a.webp.", true)]
    [InlineData("img/../a.webp", true)]
    [InlineData("img/../../a.webp", false)]
    [InlineData("../a.webp", false)]
    [InlineData("..", false)]
    [InlineData(".", false)]
    [InlineData("/etc/a.webp", false)]
    public void TargetPath_is_handed_over_only_when_it_names_a_file_inside_the_output_folder(string targetPath, bool inside)
    {
        using var project = new TaskProject();
        string file = Path.Combine(project.IntermediateDirectory, "out", "a.webp");

        ITaskItem? item = TaskItems.Output(new JobOutput(file, targetPath, "a.png", "webp", 1, 1), project.Directory, TaskItems.OutputRoot(project.Directory, project.OutputDirectory), out Diagnostic? problem);

        Assert.Equal(inside, item != null);
        Assert.Equal(inside, problem == null);
    }

    private static ITaskItem Handed(TaskProject project, JobOutput output) =>
        TaskItems.Output(output, project.Directory, TaskItems.OutputRoot(project.Directory, project.OutputDirectory), out _)
        ?? throw new InvalidOperationException("the output was refused");

    private static SortedDictionary<string, string> Escaped(ITaskItem item) => Entries(((ITaskItem2)item).CloneCustomMetadataEscaped());

    private static SortedDictionary<string, string> Unescaped(ITaskItem item) => Entries(item.CloneCustomMetadata());

    /// <summary>As MSBuild's older versions read them: the dictionary's own enumerator, of DictionaryEntry.</summary>
    private static SortedDictionary<string, string> Entries(IDictionary metadata)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in metadata)
        {
            entries.Add((string)entry.Key, (string)entry.Value!);
        }

        return entries;
    }
}
