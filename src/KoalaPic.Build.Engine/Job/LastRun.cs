using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The record of the last run (<see cref="JobLayout.LastRunFile"/>), written by <see cref="ImageJob"/> at the end of
/// every run: what it handed the build. A build in which nothing changed skips the converter and hands MSBuild the
/// same outputs, logs the same warnings and the same summary from this record, so that it looks like the run it skips.
/// </summary>
public sealed class LastRun
{
    /// <summary>Bumped when the shape changes: a record of another version is read as no record (the converter runs).</summary>
    public const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;

    /// <summary>The outputs MSBuild copies to bin/ and publish/, with their metadata.</summary>
    public List<JobOutput> Outputs { get; set; } = new();

    /// <summary>The run's warnings, exactly as <see cref="JobResult.Diagnostics"/> held them (errors make the next build run).</summary>
    public List<Diagnostic> Warnings { get; set; } = new();

    /// <summary>Files written outside the job folder (KoalaPicReportPath, KoalaPicZipPath), kept in FileWrites.</summary>
    public List<string> WrittenFiles { get; set; } = new();

    /// <summary>The images of the run, as in its summary line.</summary>
    public int ImageCount { get; set; }

    public static LastRun From(JobResult result) => new()
    {
        Outputs = result.Outputs,
        Warnings = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning).ToList(),
        WrittenFiles = result.WrittenFiles,
        ImageCount = result.ImageCount,
    };

    /// <summary>Writes the record, only when its bytes change.</summary>
    public void Write(string path) =>
        AtomicFile.WriteIfChanged(path, JsonSerializer.SerializeToUtf8Bytes(this, LastRunJson.Default.LastRun));

    /// <summary>The record at <paramref name="path"/>, or null when there is none or it cannot be read (then the converter runs).</summary>
    public static LastRun? TryRead(string path)
    {
        try
        {
            LastRun? record = JsonSerializer.Deserialize(File.ReadAllBytes(path), LastRunJson.Default.LastRun);
            return record is { Version: CurrentVersion } ? record : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }
}

/// <summary>Source-generated, as the state file: the record is read by every no-op build, often in a fresh process.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LastRun))]
internal sealed partial class LastRunJson : JsonSerializerContext
{
}
