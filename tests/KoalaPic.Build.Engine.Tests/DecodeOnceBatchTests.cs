using System.Collections.Concurrent;
using KoalaPic.Build.Engine;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The batch decodes each source once for all its outputs, only when one of them must be encoded, and in cost order.</summary>
public class DecodeOnceBatchTests
{
    private static readonly string[] Widths = { "240", "120", "60" };

    /// <summary>One source at three widths in webp and jpg: six outputs.</summary>
    private static List<ImageRequest> Responsive(BatchWorkspace ws, string relative, params string[] formats) =>
        formats.SelectMany(format => Widths.Select(width => ws.Request(relative, ("Format", format), ("Width", width), ("Link", $"{Path.GetFileNameWithoutExtension(relative)}-{width}.{format}")))).ToList();

    private static (ImageBatch Batch, ConcurrentBag<(string Source, int Decodes)> Decodes) Batch(BatchWorkspace ws, int parallelism = 2)
    {
        var decodes = new ConcurrentBag<(string, int)>();
        var batch = new ImageBatch(ws.Settings(parallelism)) { AfterDecode = (source, count) => decodes.Add((source, count)) };
        return (batch, decodes);
    }

    /// <summary>
    /// The source is opened once; the 600-wide JPEG's webp and jpg at 240, 120 and 60 wide load it whole, at 1/2 and
    /// at 1/4, so each pair of one width shares one decode, and every output is the one converted alone.
    /// </summary>
    [Fact]
    public void SixOutputsOfOneSource_OneDecodePerShrinkOnLoad_TheBytesOfEachConvertedAlone()
    {
        using var ws = new BatchWorkspace();
        byte[] photo = FixtureBytes("Landscape_1.jpg");
        ws.WriteSource("photo.jpg", photo);
        List<ImageRequest> requests = Responsive(ws, "photo.jpg", "webp", "jpg");
        var (batch, decodes) = Batch(ws);

        BatchResult result = batch.Run(requests);

        Assert.All(result.Items, item => Assert.Equal(ItemOutcome.Converted, item.Outcome));
        var decode = Assert.Single(decodes);
        Assert.Equal((ws.Source("photo.jpg"), 3), decode);
        Assert.Equal(1, batch.SourcesHashed);
        foreach (ItemResult item in result.Items)
        {
            EncodedImage alone = ImageConverter.Convert(photo, item.Request.Options);
            Assert.Equal((alone.Width, alone.Height), (item.Width, item.Height));
            Assert.Equal(alone.Bytes, File.ReadAllBytes(item.OutputFile));
        }
    }

    [Fact]
    public void EveryOutputInTheCache_NothingIsDecoded()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("photo.jpg", FixtureBytes("Landscape_1.jpg"));
        List<ImageRequest> requests = Responsive(ws, "photo.jpg", "webp", "jpg");
        Batch(ws).Batch.Run(requests);
        Directory.Delete(ws.Output, recursive: true);
        File.Delete(ws.StateFile);
        var (batch, decodes) = Batch(ws);

        BatchResult result = batch.Run(requests);

        Assert.All(result.Items, item => Assert.Equal(ItemOutcome.FromCache, item.Outcome));
        Assert.Empty(decodes);
        Assert.All(requests, r => Assert.True(File.Exists(ws.OutputFile(r))));
    }

    [Fact]
    public void OneOutputMissingFromTheCache_OnlyItIsEncoded_StreamedWithoutASharedDecode()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("photo.jpg", FixtureBytes("Landscape_1.jpg"));
        List<ImageRequest> requests = Responsive(ws, "photo.jpg", "webp");
        Batch(ws).Batch.Run(requests);
        requests.Add(ws.Request("photo.jpg", ("Format", "png"), ("Width", "30"), ("Link", "photo-30.png")));
        var (batch, decodes) = Batch(ws);

        BatchResult result = batch.Run(requests);

        Assert.Equal(new[] { ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.UpToDate, ItemOutcome.Converted }, result.Items.Select(i => i.Outcome));
        Assert.Equal((ws.Source("photo.jpg"), 0), Assert.Single(decodes));
    }

    [Fact]
    public void ManySources_NoMoreHeldDecodedAtOnceThanImagesConvertedAtOnce()
    {
        using var ws = new BatchWorkspace();
        var requests = new List<ImageRequest>();
        for (int i = 0; i < 6; i++)
        {
            ws.WriteSource($"g{i}.png", ImageBatchTests.GradientPng(i));
            requests.AddRange(Responsive(ws, $"g{i}.png", "webp", "png"));
        }

        var (batch, decodes) = Batch(ws, parallelism: 2);

        BatchResult result = batch.Run(requests);

        Assert.All(result.Items, item => Assert.Equal(ItemOutcome.Converted, item.Outcome));
        Assert.Equal(6, decodes.Count);
        Assert.All(decodes, d => Assert.Equal(1, d.Decodes));
        Assert.InRange(batch.LastPeakDecoded, 1, 2);
    }

    [Fact]
    public void OneWorker_EncodesTheCostliestSourceFirst_AndItsOutputsCostliestFirst()
    {
        using var ws = new BatchWorkspace();
        ws.WriteSource("small.png", ImageBatchTests.GradientPng(1)); // 96x64
        ws.WriteSource("large.jpg", FixtureBytes("Landscape_1.jpg")); // 600x450
        var requests = Responsive(ws, "small.png", "webp", "jpg").Concat(Responsive(ws, "large.jpg", "webp", "jpg")).ToList();
        var order = new List<string>();
        var batch = new ImageBatch(ws.Settings(parallelism: 1));

        batch.Run(requests, (item, _) => order.Add(item.Request.OutputPath));

        var expected = requests
            .OrderByDescending(r => r.SourcePath.EndsWith("large.jpg", StringComparison.Ordinal))
            .ThenByDescending(r => WorkCost.Estimate(File.ReadAllBytes(r.SourcePath), r.Options, ImageConverter.DefaultMaxPixels))
            .Select(r => r.OutputPath);
        Assert.Equal(expected, order);
        Assert.Equal("large-240.webp", order[0]);
    }
}
