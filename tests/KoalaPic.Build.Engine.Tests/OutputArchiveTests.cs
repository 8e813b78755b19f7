using System.IO.Compression;
using KoalaPic.Build.Engine;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The ZIP of all outputs: every output at its relative path, and the same bytes for the same outputs.</summary>
public sealed class OutputArchiveTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private (string, string)[] Outputs()
    {
        var files = new[] { ("img/b.webp", FixtureBytes("4.webp")), ("a.jpg", FixtureBytes("concert.jpg")), ("img/sub/c.png", FixtureBytes("alpha-layer-1-fill.png")) };
        return files.Select(f =>
        {
            string path = folder.Combine("out", f.Item1);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, f.Item2);
            return (f.Item1, path);
        }).ToArray();
    }

    [Fact]
    public void Archive_HoldsEveryOutputAtItsPath_SortedWithFixedTimes()
    {
        var outputs = Outputs();

        using var zip = new ZipArchive(new MemoryStream(OutputArchive.Create(outputs)));

        Assert.Equal(new[] { "a.jpg", "img/b.webp", "img/sub/c.png" }, zip.Entries.Select(e => e.FullName));
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            using var content = new MemoryStream();
            entry.Open().CopyTo(content);
            Assert.Equal(File.ReadAllBytes(outputs.Single(o => o.Item1 == entry.FullName).Item2), content.ToArray());
            Assert.Equal(new DateTime(1980, 1, 1), entry.LastWriteTime.DateTime);
        }
    }

    [Fact]
    public void SameOutputs_GiveTheSameBytes_InAnyOrderAndAtAnyTime()
    {
        var outputs = Outputs();
        byte[] first = OutputArchive.Create(outputs);
        foreach (var (_, file) in outputs)
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddDays(-3));
        }

        byte[] second = OutputArchive.Create(outputs.Reverse());

        Assert.Equal(first, second);
    }

    [Fact]
    public void Write_RewritesTheFileOnlyWhenAnOutputChanged()
    {
        var outputs = Outputs();
        string zipPath = folder.Combine("bin", "images.zip");
        Assert.True(OutputArchive.Write(zipPath, outputs));
        DateTime written = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(zipPath, written);

        Assert.False(OutputArchive.Write(zipPath, outputs));
        Assert.Equal(written, File.GetLastWriteTimeUtc(zipPath));

        File.WriteAllBytes(outputs[0].Item2, FixtureBytes("flowers.jpeg"));
        Assert.True(OutputArchive.Write(zipPath, outputs));
        using var zip = ZipFile.OpenRead(zipPath);
        using var content = new MemoryStream();
        zip.GetEntry(outputs[0].Item1)!.Open().CopyTo(content);
        Assert.Equal(FixtureBytes("flowers.jpeg"), content.ToArray());
    }
}
