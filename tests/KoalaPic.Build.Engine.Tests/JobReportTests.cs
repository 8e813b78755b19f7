using System.Text.Json;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The job report's JSON: the documented field names, counts and per-item facts of a real batch.</summary>
public sealed class JobReportTests : IDisposable
{
    private readonly BatchWorkspace ws = new();

    public void Dispose() => ws.Dispose();

    private static readonly string[] JobFields =
    {
        "version", "job_id", "status", "project", "created_at", "elapsed_ms", "total_files", "completed_files", "failed_files",
        "skipped_files", "downloaded_files", "bytes_in", "bytes_out", "total_bytes", "max_total_bytes", "over_total_budget", "error", "items",
    };

    private static readonly string[] ItemFields =
    {
        "item", "source", "source_sha256", "downloaded", "output", "format", "width", "height", "bytes_in", "bytes_out", "larger_than_source", "max_bytes", "over_budget", "quality",
        "smart_quality", "lossless", "placeholder", "status", "from_cache", "error", "warning",
    };

    private List<ImageRequest> Requests()
    {
        ws.WriteSource("img/photo.jpg", FixtureBytes("concert.jpg"));
        ws.WriteSource("img/logo.png", FixtureBytes("alpha-layer-1-fill.png"));
        ws.WriteSource("img/broken.jpg", FixtureBytes("concert.jpg").AsSpan(0, 2000).ToArray());
        return new List<ImageRequest>
        {
            ws.Request("img/photo.jpg", ("Format", "webp"), ("Width", "400"), ("SmartQuality", "medium")),
            ws.Request("img/logo.png", ("Format", "png"), ("Lossless", "true")),
            ws.Request("img/broken.jpg", ("Format", "avif")),
        };
    }

    private static JsonElement Json(JobReport report) => JsonDocument.Parse(report.ToJsonBytes()).RootElement;

    [Fact]
    public void Report_HasEveryDocumentedField_AndTheFactsOfEachItem()
    {
        List<ImageRequest> requests = Requests();
        BatchResult result = ws.Run(requests);

        JsonElement json = Json(JobReport.Create("/p/p.csproj", result.Items.Select(JobReport.Item), result.Elapsed));

        Assert.Equal(JobFields, json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("completed_with_errors", json.GetProperty("status").GetString());
        Assert.Equal(32, json.GetProperty("job_id").GetString()!.Length);
        Assert.Equal(3, json.GetProperty("total_files").GetInt32());
        Assert.Equal(2, json.GetProperty("completed_files").GetInt32());
        Assert.Equal(1, json.GetProperty("failed_files").GetInt32());
        Assert.Equal(0, json.GetProperty("skipped_files").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("error").ValueKind);

        JsonElement[] items = json.GetProperty("items").EnumerateArray().ToArray();
        Assert.All(items, i => Assert.Equal(ItemFields, i.EnumerateObject().Select(p => p.Name)));

        JsonElement photo = items[0];
        Assert.Equal("img/photo.jpg", photo.GetProperty("item").GetString());
        Assert.Equal(ws.Source("img/photo.jpg"), photo.GetProperty("source").GetString());
        Assert.Equal("img/photo.webp", photo.GetProperty("output").GetString());
        Assert.Equal("webp", photo.GetProperty("format").GetString());
        using (Image output = Image.NewFromFile(result.Items[0].OutputFile))
        {
            Assert.Equal(400, output.Width);
            Assert.Equal(output.Width, photo.GetProperty("width").GetInt32());
            Assert.Equal(output.Height, photo.GetProperty("height").GetInt32());
        }

        Assert.Equal(new FileInfo(ws.Source("img/photo.jpg")).Length, photo.GetProperty("bytes_in").GetInt64());
        Assert.Equal(new FileInfo(result.Items[0].OutputFile).Length, photo.GetProperty("bytes_out").GetInt64());
        Assert.Equal(result.Items[0].ChosenQuality!.Value, photo.GetProperty("quality").GetInt32());
        Assert.Equal("medium", photo.GetProperty("smart_quality").GetString());
        Assert.Equal("converted", photo.GetProperty("status").GetString());
        Assert.False(photo.GetProperty("from_cache").GetBoolean());
        Assert.Equal(JsonValueKind.Null, photo.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, photo.GetProperty("source_sha256").ValueKind);

        JsonElement logo = items[1];
        Assert.Equal(JsonValueKind.Null, logo.GetProperty("quality").ValueKind);
        Assert.True(logo.GetProperty("lossless").GetBoolean());

        JsonElement broken = items[2];
        Assert.Equal("failed", broken.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("output").ValueKind);
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("width").ValueKind);
        Assert.Equal(DiagnosticCodes.CannotDecode, broken.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("img/broken.jpg", broken.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public void UpToDateAndCachedItems_KeepTheirDimensionsAndSmartQualityChoice()
    {
        List<ImageRequest> requests = Requests().Take(2).ToList();
        BatchResult first = ws.Run(requests);
        BatchResult upToDate = ws.Run(requests);
        Directory.Delete(ws.Output, recursive: true);
        BatchResult fromCache = ws.Run(requests);

        Assert.All(upToDate.Items, i => Assert.Equal(ItemOutcome.UpToDate, i.Outcome));
        Assert.All(fromCache.Items, i => Assert.Equal(ItemOutcome.FromCache, i.Outcome));
        foreach (BatchResult later in new[] { upToDate, fromCache })
        {
            Assert.Equal(first.Items.Select(i => (i.Width, i.Height, i.ChosenQuality)), later.Items.Select(i => (i.Width, i.Height, i.ChosenQuality)));
        }

        JsonElement skipped = Json(JobReport.Create("/p/p.csproj", upToDate.Items.Select(JobReport.Item), upToDate.Elapsed));
        Assert.Equal("completed", skipped.GetProperty("status").GetString());
        Assert.Equal(2, skipped.GetProperty("skipped_files").GetInt32());
        Assert.Equal(0, skipped.GetProperty("completed_files").GetInt32());
        JsonElement item = skipped.GetProperty("items")[0];
        Assert.Equal("up_to_date", item.GetProperty("status").GetString());
        Assert.True(item.GetProperty("from_cache").GetBoolean());
        Assert.Equal(first.Items[0].Width, item.GetProperty("width").GetInt32());
        Assert.Equal(first.Items[0].ChosenQuality, item.GetProperty("quality").GetInt32());

        JsonElement cached = Json(JobReport.Create("/p/p.csproj", fromCache.Items.Select(JobReport.Item), fromCache.Elapsed));
        Assert.Equal(2, cached.GetProperty("completed_files").GetInt32());
        Assert.Equal("from_cache", cached.GetProperty("items")[0].GetProperty("status").GetString());
    }

    [Fact]
    public void AllFailed_OrABatchError_IsStatusFailed()
    {
        var error = Diagnostic.Error(DiagnosticCodes.InvalidFormat, "KoalaImage 'a.png': Format=\"jpeg2000\" is not valid.", "/p/p.csproj");
        JsonElement allFailed = Json(JobReport.Create("/p/p.csproj", new[] { JobReport.Invalid("a.png", "/p/a.png", "jpeg2000", error) }, TimeSpan.Zero));
        Assert.Equal("failed", allFailed.GetProperty("status").GetString());
        Assert.Equal(DiagnosticCodes.InvalidFormat, allFailed.GetProperty("items")[0].GetProperty("error").GetProperty("code").GetString());

        JsonElement batchError = Json(JobReport.Create("/p/p.csproj", Array.Empty<JobReportItem>(), TimeSpan.Zero, new JobReportError(DiagnosticCodes.EngineLoadFailed, "no libvips")));
        Assert.Equal("failed", batchError.GetProperty("status").GetString());
        Assert.Equal(DiagnosticCodes.EngineLoadFailed, batchError.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public void Report_RoundTripsThroughItsFile()
    {
        List<ImageRequest> requests = Requests();
        BatchResult result = ws.Run(requests);
        JobReport report = JobReport.Create("/p/p.csproj", result.Items.Select(JobReport.Item), result.Elapsed);
        string path = Path.Combine(ws.Root, "report.json");

        report.Write(path);

        JobReport read = JobReport.Read(path)!;
        Assert.Equal(report.ToJsonBytes(), read.ToJsonBytes());
    }
}
