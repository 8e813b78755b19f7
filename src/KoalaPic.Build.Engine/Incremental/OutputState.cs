using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KoalaPic.Build.Engine;

/// <summary>What the last run wrote for one output: the key it was made from and the file as it was left.</summary>
public sealed class OutputRecord
{
    [JsonPropertyName("key")] public string Key { get; set; } = "";
    [JsonPropertyName("length")] public long Length { get; set; }
    [JsonPropertyName("lastWriteUtcTicks")] public long LastWriteUtcTicks { get; set; }

    /// <summary>The output's dimensions and smart quality's choice, for the job report (0 and null when unknown).</summary>
    [JsonPropertyName("width")] public int Width { get; set; }
    [JsonPropertyName("height")] public int Height { get; set; }
    [JsonPropertyName("chosenQuality")] public int? ChosenQuality { get; set; }

    /// <summary>
    /// The placeholder made with the output (Placeholder metadata), so that an up-to-date build has it without
    /// decoding the source; absent when none was made. A record without one does not satisfy an item that asks for one.
    /// </summary>
    [JsonPropertyName("placeholder")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImagePlaceholder? Placeholder { get; set; }

    /// <summary>
    /// The source's width after EXIF orientation, when the run that made the output read it (0 when unknown): while
    /// <see cref="Source"/> still holds, the next run knows which Widths variants the source is too narrow for
    /// without loading libvips to read its header.
    /// </summary>
    [JsonPropertyName("sourceWidth")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int SourceWidth { get; set; }

    /// <summary>
    /// The settled stamp of the source the key was computed from (<see cref="SourceStamp"/>), with the source's path
    /// and <see cref="ContentKey.Settings"/>: while all of them still hold, the key holds without reading the source.
    /// Absent when the stamp was not settled or the platform has no change time; the source is then hashed.
    /// </summary>
    [JsonPropertyName("source")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SourceRecord? Source { get; set; }
}

/// <summary>A source as it was when its bytes were hashed.</summary>
public sealed class SourceRecord
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("settings")] public string Settings { get; set; } = "";
    [JsonPropertyName("length")] public long Length { get; set; }
    [JsonPropertyName("lastWriteUtcTicks")] public long LastWriteUtcTicks { get; set; }
    [JsonPropertyName("changeUtcTicks")] public long ChangeUtcTicks { get; set; }
    [JsonPropertyName("fileId")] public string FileId { get; set; } = "";
}

/// <summary>
/// The project's record of the outputs it owns (obj/…/koalapic/state.json). It lets a no-op build skip outputs
/// without rereading them, and tells which outputs an earlier build left that no item produces any more.
/// Anything it says is checked against the file on disk before it is trusted.
/// </summary>
public sealed class OutputState
{
    private const int CurrentVersion = 1;

    /// <summary>About 250,000 outputs' records: a larger state.json is not one KoalaPic wrote, and starts empty.</summary>
    private const long MaxStateBytes = 256L << 20;

    [JsonPropertyName("version")] public int Version { get; set; } = CurrentVersion;

    /// <summary>Keyed by the output path relative to the output folder, '/'-separated.</summary>
    [JsonPropertyName("outputs")] public Dictionary<string, OutputRecord> Outputs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Reads the state, or starts empty when it is missing, unreadable or of another version.</summary>
    public static OutputState Load(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                var state = JsonSerializer.Deserialize(SourceFile.ReadAllBytes(path, MaxStateBytes), OutputStateJson.Default.OutputState);
                if (state is { Version: CurrentVersion, Outputs: not null })
                {
                    return new OutputState { Outputs = new Dictionary<string, OutputRecord>(state.Outputs, StringComparer.Ordinal) };
                }
            }
        }
        catch (JsonException)
        {
        }
        catch (IOException)
        {
        }

        return new OutputState();
    }

    public void Save(string path) =>
        AtomicFile.WriteIfChanged(path, JsonSerializer.SerializeToUtf8Bytes(this, OutputStateJson.Default.OutputState));

    /// <param name="source">The stamp taken before the source's bytes were read; recorded only when settled.</param>
    internal static OutputRecord Describe(string key, string file, OutputFacts facts, string sourcePath, string settings, SourceStamp source) =>
        WithSource(Describe(key, file, facts), sourcePath, settings, source);

    public static OutputRecord Describe(string key, string file, OutputFacts facts = default)
    {
        var info = new FileInfo(file);
        return new OutputRecord
        {
            Key = key, Length = info.Length, LastWriteUtcTicks = info.LastWriteTimeUtc.Ticks,
            Width = facts.Width, Height = facts.Height, ChosenQuality = facts.ChosenQuality, Placeholder = facts.Placeholder,
        };
    }

    internal static OutputRecord WithSource(OutputRecord record, string sourcePath, string settings, SourceStamp source) =>
        new()
        {
            Key = record.Key,
            Length = record.Length,
            LastWriteUtcTicks = record.LastWriteUtcTicks,
            Width = record.Width,
            Height = record.Height,
            ChosenQuality = record.ChosenQuality,
            Placeholder = record.Placeholder,
            SourceWidth = record.SourceWidth,
            Source = source is { IsSettled: true, ChangeUtcTicks: long change, FileId: string id }
                ? new SourceRecord { Path = sourcePath, Settings = settings, Length = source.Length, LastWriteUtcTicks = source.LastWriteUtcTicks, ChangeUtcTicks = change, FileId = id }
                : null,
        };

    /// <summary>
    /// True when the record's source stamp proves that the source still holds the bytes its key was made from, for
    /// the same settings and engine, and the output on disk is the one recorded: up to date without reading the source.
    /// </summary>
    internal static bool SourceUnchanged(OutputRecord record, string sourcePath, string settings, SourceStamp now) =>
        string.Equals(record.Source?.Settings, settings, StringComparison.Ordinal) && SameSource(record, sourcePath, now);

    /// <summary>True when the record's source stamp proves the file at <paramref name="sourcePath"/> unchanged, whatever the settings.</summary>
    internal static bool SameSource(OutputRecord record, string sourcePath, SourceStamp now) =>
        record.Source is { } source
        && string.Equals(source.Path, sourcePath, StringComparison.Ordinal)
        && SourceStamp.Recorded(source.Length, source.LastWriteUtcTicks, source.ChangeUtcTicks, source.FileId).SameFileAs(now);

    /// <summary>True when the file on disk is still the one this record describes.</summary>
    public static bool Matches(OutputRecord record, string key, string file)
    {
        if (record.Key != key)
        {
            return false;
        }

        var info = new FileInfo(file);
        return info.Exists && info.Length == record.Length && info.LastWriteTimeUtc.Ticks == record.LastWriteUtcTicks;
    }
}

/// <summary>
/// Source-generated serialisation: a no-op build runs in a fresh MSBuild process more often than not, where
/// reflection-based JSON spent about 50 ms warming up on a 1,000-image state file.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(OutputState))]
internal sealed partial class OutputStateJson : JsonSerializerContext
{
}
