using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Writes through a temporary file and a rename; unchanged content is not rewritten.</summary>
public class AtomicFileTests
{
    private static readonly DateTime LongAgo = new(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);

    [Fact]
    public void WriteIfChanged_NewFile_WritesItAndCreatesFolders()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("a", "b", "out.bin");

        bool wrote = AtomicFile.WriteIfChanged(path, new byte[] { 1, 2, 3 });

        Assert.True(wrote);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void WriteIfChanged_IdenticalContent_DoesNotRewrite()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("out.bin");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        File.SetLastWriteTimeUtc(path, LongAgo);

        bool wrote = AtomicFile.WriteIfChanged(path, new byte[] { 1, 2, 3 });

        Assert.False(wrote);
        Assert.Equal(LongAgo, File.GetLastWriteTimeUtc(path));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp", SearchOption.AllDirectories));
        Assert.Single(Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 4 })] // same length, other bytes
    [InlineData(new byte[] { 1, 2 })] // shorter
    [InlineData(new byte[] { 1, 2, 3, 4 })] // longer
    [InlineData(new byte[0])] // empty
    public void WriteIfChanged_DifferentContent_ReplacesIt(byte[] content)
    {
        using var folder = new TempFolder();
        string path = folder.Combine("out.bin");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        File.SetLastWriteTimeUtc(path, LongAgo);

        bool wrote = AtomicFile.WriteIfChanged(path, content);

        Assert.True(wrote);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.NotEqual(LongAgo, File.GetLastWriteTimeUtc(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Write_ManyTimesInParallel_EndsWithOneCompleteVersionAndNoTemporaryFiles()
    {
        // Concurrent writers (two builds sharing a cache) each rename a complete file over the target: the reader
        // sees one of the versions whole, and the temporary files are gone.
        using var folder = new TempFolder();
        string path = folder.Combine("shared.bin");
        byte[][] versions = Enumerable.Range(0, 4).Select(i => Enumerable.Repeat((byte)i, 20_000).ToArray()).ToArray();

        Parallel.For(0, 16, i => AtomicFile.Write(path, versions[i % versions.Length]));

        byte[] final = File.ReadAllBytes(path);
        Assert.Contains(versions, v => v.AsSpan().SequenceEqual(final));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Write_TargetIsADirectory_ThrowsAndLeavesNoTemporaryFile()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("taken");
        Directory.CreateDirectory(path);

        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(path, new byte[] { 1 }));

        Assert.Empty(Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void HasContent_MissingOrDifferentFile_IsFalse()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("x.bin");

        Assert.False(AtomicFile.HasContent(path, new byte[] { 1 }));
        File.WriteAllBytes(path, new byte[] { 1 });
        Assert.True(AtomicFile.HasContent(path, new byte[] { 1 }));
        Assert.False(AtomicFile.HasContent(path, new byte[] { 2 }));
    }

    [Fact]
    public void TryDelete_MissingFile_DoesNotThrow()
    {
        using var folder = new TempFolder();

        AtomicFile.TryDelete(folder.Combine("nothing-here.bin"));
        AtomicFile.TryDelete(folder.Combine("no-folder", "nothing-here.bin"));
    }

    [Fact]
    public void OutputState_SaveLoad_RoundTripsAndIgnoresOtherVersions()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("state.json");
        var state = new OutputState();
        state.Outputs["img/a.webp"] = new OutputRecord { Key = "k1", Length = 10, LastWriteUtcTicks = 42 };

        state.Save(path);
        OutputState loaded = OutputState.Load(path);

        OutputRecord record = Assert.Single(loaded.Outputs).Value;
        Assert.Equal(("k1", 10L, 42L), (record.Key, record.Length, record.LastWriteUtcTicks));
        Assert.Empty(OutputState.Load(folder.Combine("missing.json")).Outputs);
        File.WriteAllText(path, "{\"version\": 99, \"outputs\": {\"x\": {\"key\": \"k\"}}}");
        Assert.Empty(OutputState.Load(path).Outputs);
    }
}
