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
}

/// <summary>
/// The project's record of the outputs it owns (obj/…/koalapic/state.json). It lets a no-op build skip outputs
/// without rereading them, and tells which outputs an earlier build left that no item produces any more.
/// Anything it says is checked against the file on disk before it is trusted.
/// </summary>
public sealed class OutputState
{
    private const int CurrentVersion = 1;

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
                var state = JsonSerializer.Deserialize<OutputState>(File.ReadAllBytes(path));
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
        AtomicFile.WriteIfChanged(path, JsonSerializer.SerializeToUtf8Bytes(this, new JsonSerializerOptions { WriteIndented = true }));

    public static OutputRecord Describe(string key, string file, OutputFacts facts = default)
    {
        var info = new FileInfo(file);
        return new OutputRecord
        {
            Key = key, Length = info.Length, LastWriteUtcTicks = info.LastWriteTimeUtc.Ticks,
            Width = facts.Width, Height = facts.Height, ChosenQuality = facts.ChosenQuality,
        };
    }

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
