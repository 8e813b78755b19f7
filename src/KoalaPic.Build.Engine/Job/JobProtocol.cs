using System.Text.Json;
using System.Text.Json.Serialization;

namespace KoalaPic.Build.Engine;

/// <summary>One line the koalapic process writes: a log line as it happens, or the job's result at the end.</summary>
public sealed class JobMessage
{
    public JobLog? Log { get; set; }

    public JobResult? Result { get; set; }

    /// <summary>With the result: the koalapic process's peak memory (peak working set), in bytes.</summary>
    public long PeakMemoryBytes { get; set; }
}

/// <summary>
/// The JSON shared by the host that starts koalapic (a <see cref="JobInput"/> file in, <see cref="JobMessage"/> lines
/// out) and koalapic itself.
/// </summary>
public static class JobProtocol
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
