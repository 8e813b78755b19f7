using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KoalaPic.Build.Engine;

/// <summary>
/// What one build did with its images, as JSON (obj/…/koalapic/report.json, and KoalaPicReportPath), shaped like the
/// KoalaPic API's job status. Field names are snake_case and stable; docs/reference.md documents the schema. Every
/// field is always written (null when it does not apply), so a reader never has to test for a missing one.
/// </summary>
public sealed class JobReport
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")] public int Version { get; set; } = CurrentVersion;

    /// <summary>New for every build.</summary>
    [JsonPropertyName("job_id")] public string JobId { get; set; } = "";

    /// <summary><c>completed</c> (nothing failed), <c>completed_with_errors</c> (some failed), <c>failed</c> (all failed, or the batch could not run).</summary>
    [JsonPropertyName("status")] public string Status { get; set; } = "";

    [JsonPropertyName("project")] public string Project { get; set; } = "";

    /// <summary>When the report was written, UTC, ISO 8601.</summary>
    [JsonPropertyName("created_at")] public string CreatedAt { get; set; } = "";

    [JsonPropertyName("elapsed_ms")] public long ElapsedMilliseconds { get; set; }

    [JsonPropertyName("total_files")] public int TotalFiles { get; set; }

    /// <summary>Converted in this build or taken from the cache.</summary>
    [JsonPropertyName("completed_files")] public int CompletedFiles { get; set; }

    [JsonPropertyName("failed_files")] public int FailedFiles { get; set; }

    /// <summary>Already up to date: nothing was done.</summary>
    [JsonPropertyName("skipped_files")] public int SkippedFiles { get; set; }

    [JsonPropertyName("downloaded_files")] public int DownloadedFiles { get; set; }

    /// <summary>Sums over the items that have an output.</summary>
    [JsonPropertyName("bytes_in")] public long BytesIn { get; set; }

    [JsonPropertyName("bytes_out")] public long BytesOut { get; set; }

    /// <summary>What KoalaPicMaxTotalBytes is compared with: the bytes of every output the build delivers.</summary>
    [JsonPropertyName("total_bytes")] public long TotalBytes { get; set; }

    /// <summary>KoalaPicMaxTotalBytes in bytes; null when not set.</summary>
    [JsonPropertyName("max_total_bytes")] public long? MaxTotalBytes { get; set; }

    /// <summary>True when total_bytes is over max_total_bytes (warning KP5004).</summary>
    [JsonPropertyName("over_total_budget")] public bool OverTotalBudget { get; set; }

    /// <summary>Why the whole batch failed (engine not loadable, another build held the lock); null otherwise.</summary>
    [JsonPropertyName("error")] public JobReportError? Error { get; set; }

    /// <summary>One per KoalaImage item, in item order.</summary>
    [JsonPropertyName("items")] public List<JobReportItem> Items { get; set; } = new();


    /// <param name="items">Every item, in item order (see <see cref="Item(ItemResult)"/> and <see cref="Invalid"/>).</param>
    /// <param name="error">The batch's own failure, when it could not run.</param>
    /// <param name="totalBytes">The delivered outputs' bytes (<see cref="Budgets.Total"/>), which <paramref name="maxTotalBytes"/> budgets.</param>
    public static JobReport Create(string projectFile, IEnumerable<JobReportItem> items, TimeSpan elapsed, JobReportError? error = null, DateTimeOffset? now = null, long totalBytes = 0, long? maxTotalBytes = null)
    {
        var list = items.ToList();
        var report = new JobReport
        {
            JobId = Guid.NewGuid().ToString("N"),
            Project = projectFile,
            CreatedAt = (now ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ElapsedMilliseconds = (long)elapsed.TotalMilliseconds,
            TotalFiles = list.Count,
            CompletedFiles = list.Count(i => i.Status is ItemStatus.Converted or ItemStatus.FromCache or ItemStatus.FromRemoteCache),
            FailedFiles = list.Count(i => i.Status == ItemStatus.Failed),
            SkippedFiles = list.Count(i => i.Status == ItemStatus.UpToDate),
            DownloadedFiles = list.Count(i => i.Downloaded),
            BytesIn = list.Where(i => i.Status != ItemStatus.Failed).Sum(i => i.BytesIn),
            BytesOut = list.Where(i => i.Status != ItemStatus.Failed).Sum(i => i.BytesOut),
            TotalBytes = totalBytes,
            MaxTotalBytes = maxTotalBytes,
            OverTotalBudget = totalBytes > maxTotalBytes,
            Error = error,
            Items = list,
        };
        report.Status = error != null || (report.FailedFiles > 0 && report.FailedFiles == report.TotalFiles) ? "failed"
            : report.FailedFiles > 0 ? "completed_with_errors"
            : "completed";
        return report;
    }

    /// <summary>The report line of one item the batch processed.</summary>
    public static JobReportItem Item(ItemResult result)
    {
        ImageRequest request = result.Request;
        ConversionOptions options = request.Options;
        bool failed = !result.Succeeded;
        return new JobReportItem
        {
            ItemSpec = request.ItemSpec,
            Source = request.Url != null ? UrlSource.Redact(request.Url.Url) : request.SourcePath,
            SourceSha256 = result.Download?.Sha256,
            Downloaded = result.Download?.Downloaded ?? false,
            Output = failed ? null : request.OutputPath,
            Format = ImageFormats.Name(options.Format),
            Width = failed ? null : result.Width,
            Height = failed ? null : result.Height,
            BytesIn = result.SourceBytes,
            BytesOut = result.OutputBytes,
            LargerThanSource = ItemDiagnostics.IsLargerThanSource(result),
            MaxBytes = request.MaxBytes,
            OverBudget = Budgets.IsOver(result),
            Quality = failed ? null : QualityUsed(options, result.ChosenQuality),
            SmartQuality = options.SmartQuality == SmartQualityLevel.None ? null : options.SmartQuality.ToString().ToLowerInvariant(),
            Lossless = options.Lossless,
            Placeholder = failed ? null : result.Placeholder,
            Status = result.Outcome switch
            {
                ItemOutcome.Converted => ItemStatus.Converted,
                ItemOutcome.FromCache => ItemStatus.FromCache,
                ItemOutcome.FromRemoteCache => ItemStatus.FromRemoteCache,
                ItemOutcome.UpToDate => ItemStatus.UpToDate,
                _ => ItemStatus.Failed,
            },
            FromCache = result.Outcome is ItemOutcome.FromCache or ItemOutcome.FromRemoteCache or ItemOutcome.UpToDate,
            Error = failed && result.Diagnostic != null ? new JobReportError(result.Diagnostic.Code, result.Diagnostic.Message) : null,
            Warning = !failed && result.Diagnostic != null ? new JobReportError(result.Diagnostic.Code, result.Diagnostic.Message) : null,
        };
    }

    /// <summary>The report line of an item that never reached the batch (invalid metadata), or of every item when the batch could not run.</summary>
    public static JobReportItem Invalid(string itemSpec, string source, string? format, Diagnostic error) => new()
    {
        ItemSpec = UrlSource.Redact(itemSpec),
        Source = UrlSource.Redact(source),
        Format = format,
        Status = ItemStatus.Failed,
        Error = new JobReportError(error.Code, error.Message),
    };

    /// <summary>The quality the encoder was given; null where there is none (lossless output, gif, bmp, ico).</summary>
    private static int? QualityUsed(ConversionOptions options, int? chosen)
    {
        if (chosen != null)
        {
            return chosen;
        }

        return options.Lossless || !ImageFormats.Of(options.Format).TakesQuality ? null : options.Quality;
    }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, JobReportJson.Default.JobReport);

    /// <summary>Writes the report atomically: a reader never sees half of it.</summary>
    public void Write(string path) => AtomicFile.Write(path, ToJsonBytes());

    public static JobReport? Read(string path) => JsonSerializer.Deserialize(System.IO.File.ReadAllBytes(path), JobReportJson.Default.JobReport);
}

/// <summary>The values of an item's <c>status</c>.</summary>
public static class ItemStatus
{
    public const string Converted = "converted";
    public const string FromCache = "from_cache";
    public const string UpToDate = "up_to_date";

    /// <summary>Taken from the remote cache (KoalaPicRemoteCache) without encoding.</summary>
    public const string FromRemoteCache = "from_remote_cache";
    public const string Failed = "failed";
}

public sealed class JobReportItem
{
    /// <summary>The KoalaImage's Include, as written.</summary>
    [JsonPropertyName("item")] public string ItemSpec { get; set; } = "";

    /// <summary>The URL of a Url item; otherwise the full path of the source file.</summary>
    [JsonPropertyName("source")] public string Source { get; set; } = "";

    /// <summary>The SHA-256 of the downloaded bytes (Url items only).</summary>
    [JsonPropertyName("source_sha256")] public string? SourceSha256 { get; set; }

    /// <summary>True when this build downloaded the source (false: from the download cache, or not a URL).</summary>
    [JsonPropertyName("downloaded")] public bool Downloaded { get; set; }

    /// <summary>The output's path relative to the output folder (bin/), '/'-separated; null when failed.</summary>
    [JsonPropertyName("output")] public string? Output { get; set; }

    [JsonPropertyName("format")] public string? Format { get; set; }

    [JsonPropertyName("width")] public int? Width { get; set; }

    [JsonPropertyName("height")] public int? Height { get; set; }

    [JsonPropertyName("bytes_in")] public long BytesIn { get; set; }

    [JsonPropertyName("bytes_out")] public long BytesOut { get; set; }

    /// <summary>True when the output is larger than its source in a format meant to be small (warning KP2013).</summary>
    [JsonPropertyName("larger_than_source")] public bool LargerThanSource { get; set; }

    /// <summary>The item's MaxBytes in bytes; null when not set.</summary>
    [JsonPropertyName("max_bytes")] public long? MaxBytes { get; set; }

    /// <summary>True when the output is larger than max_bytes (warning KP5003).</summary>
    [JsonPropertyName("over_budget")] public bool OverBudget { get; set; }

    [JsonPropertyName("quality")] public int? Quality { get; set; }

    [JsonPropertyName("smart_quality")] public string? SmartQuality { get; set; }

    [JsonPropertyName("lossless")] public bool Lossless { get; set; }

    /// <summary>The placeholder made with this output (Placeholder metadata; the item's first variant only), as in the manifest; null otherwise.</summary>
    [JsonPropertyName("placeholder")] public ImagePlaceholder? Placeholder { get; set; }

    /// <summary>See <see cref="ItemStatus"/>.</summary>
    [JsonPropertyName("status")] public string Status { get; set; } = "";

    /// <summary>True when the output was not encoded in this build (status from_cache or up_to_date).</summary>
    [JsonPropertyName("from_cache")] public bool FromCache { get; set; }

    [JsonPropertyName("error")] public JobReportError? Error { get; set; }

    /// <summary>A warning about a successful item (a Url without Sha256); null otherwise.</summary>
    [JsonPropertyName("warning")] public JobReportError? Warning { get; set; }
}

public sealed class JobReportError
{
    public JobReportError()
    {
    }

    public JobReportError(string code, string message)
    {
        Code = code;
        Message = message;
    }

    [JsonPropertyName("code")] public string Code { get; set; } = "";

    [JsonPropertyName("message")] public string Message { get; set; } = "";
}

/// <summary>Source-generated, as the state file: the report is written by every build, most often in a fresh process.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(JobReport))]
internal sealed partial class JobReportJson : JsonSerializerContext
{
}
