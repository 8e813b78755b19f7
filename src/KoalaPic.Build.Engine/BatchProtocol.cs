using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KoalaPic.Build.Engine;

/// <summary>What the koalapic process is asked to do: one <see cref="ImageBatch"/> run.</summary>
public sealed class BatchRequest
{
    public BatchSettings? Settings { get; set; }

    public List<ImageRequest>? Requests { get; set; }

    /// <summary>Where koalapic loads libvips and ImageMagick from (the NuGet folder); null for its own probing.</summary>
    public NativeLocations? Natives { get; set; }
}

/// <summary>One line the koalapic process writes: an item's progress, the final result, or an engine load failure.</summary>
public sealed class BatchMessage
{
    public ItemResult? Progress { get; set; }

    public int Done { get; set; }

    public BatchResult? Result { get; set; }

    public string? EngineError { get; set; }

    /// <summary>The batch's own bookkeeping (state file) could not be written.</summary>
    public string? IoError { get; set; }

    /// <summary>Another build of the project kept the conversion lock too long (KP3001).</summary>
    public string? ConcurrentBuildError { get; set; }

    /// <summary>With the result: the koalapic process's peak memory (peak working set), in bytes.</summary>
    public long PeakMemoryBytes { get; set; }
}

/// <summary>The JSON shape shared by the task that starts koalapic and koalapic itself.</summary>
public static class BatchProtocol
{
    public static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>One message per line: JSON never contains a raw newline.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Json);
}
