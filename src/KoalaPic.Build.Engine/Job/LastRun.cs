using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The record of the last run (<see cref="JobLayout.LastRunFile"/>), written by <see cref="ImageJob"/> at the end of
/// every run: what it handed the build. A build in which nothing changed skips the converter and hands MSBuild the
/// same outputs, logs the same warnings and the same summary from this record, so that it looks like the run it skips.
/// </summary>
public sealed class LastRun
{
    /// <summary>Bumped when the shape or meaning changes: a record of another version is read as no record (the converter runs).</summary>
    /// <remarks>2: the remote cache's warnings are no longer kept (a version-1 record may hold one).</remarks>
    public const int CurrentVersion = 2;

    public int Version { get; set; } = CurrentVersion;

    /// <summary>The outputs MSBuild copies to bin/ and publish/, with their metadata.</summary>
    public List<JobOutput> Outputs { get; set; } = new();

    /// <summary>
    /// The run's warnings, exactly as <see cref="JobResult.Diagnostics"/> held them (errors make the next build run),
    /// but the remote cache's (<see cref="DiagnosticCodes.RemoteCacheCodes"/>): they were true of that run's exchange
    /// with the server, which a skipped run does not have.
    /// </summary>
    public List<Diagnostic> Warnings { get; set; } = new();

    /// <summary>Files written outside the job folder (KoalaPicReportPath, KoalaPicZipPath), kept in FileWrites.</summary>
    public List<string> WrittenFiles { get; set; } = new();

    /// <summary>The images of the run, as in its summary line.</summary>
    public int ImageCount { get; set; }

    public static LastRun From(JobResult result) => new()
    {
        Outputs = result.Outputs,
        Warnings = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && !DiagnosticCodes.IsAboutTheRemoteCache(d.Code)).ToList(),
        WrittenFiles = result.WrittenFiles,
        ImageCount = result.ImageCount,
    };

    /// <summary>Writes the record, also when its bytes are those already there.</summary>
    /// <remarks>
    /// Its time is the end of the last run: PrepareKoalaPicRun takes an output folder older than the record to hold every
    /// output the record lists there. Rewritten (not touched with the clock), so that the file system stamps it with the
    /// same clock as the folders.
    /// </remarks>
    public void Write(string path)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", Version);
            json.WriteNumber("imageCount", ImageCount);
            json.WriteStartArray("outputs");
            foreach (JobOutput output in Outputs)
            {
                json.WriteStartObject();
                json.WriteString("file", output.File);
                json.WriteString("targetPath", output.TargetPath);
                json.WriteString("itemSpec", output.ItemSpec);
                json.WriteString("format", output.Format);
                WriteNumber(json, "width", output.Width);
                WriteNumber(json, "height", output.Height);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("warnings");
            foreach (Diagnostic warning in Warnings)
            {
                json.WriteStartObject();
                json.WriteString("code", warning.Code);
                json.WriteString("severity", warning.Severity.ToString());
                json.WriteString("message", warning.Message);
                if (warning.File != null)
                {
                    json.WriteString("file", warning.File);
                }

                WriteNumber(json, "line", warning.Line);
                WriteNumber(json, "column", warning.Column);

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("writtenFiles");
            WrittenFiles.ForEach(json.WriteStringValue);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        AtomicFile.Write(path, buffer.ToArray());
    }

    /// <summary>The record at <paramref name="path"/>, or null when there is none or it cannot be read (then the converter runs).</summary>
    /// <remarks>
    /// Read field by field: every no-op build reads it, and JsonSerializer took about ten times longer than this on a
    /// record of 1,000 outputs (in a fresh MSBuild node, on the loaded 2-core machine of docs/performance.md).
    /// </remarks>
    public static LastRun? TryRead(string path)
    {
        try
        {
            var json = new Utf8JsonReader(File.ReadAllBytes(path), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            var record = new LastRun { Version = 0 };
            Expect(ref json, JsonTokenType.StartObject);
            while (Next(ref json) == JsonTokenType.PropertyName)
            {
                string name = json.GetString()!;
                Next(ref json);
                switch (name)
                {
                    case "version": record.Version = json.GetInt32(); break;
                    case "imageCount": record.ImageCount = json.GetInt32(); break;
                    case "outputs": ReadArray(ref json, record.Outputs, (ref Utf8JsonReader r) => ReadOutput(ref r, record.Outputs.Count > 0 ? record.Outputs[record.Outputs.Count - 1] : null)); break;
                    case "warnings": ReadArray(ref json, record.Warnings, ReadDiagnostic); break;
                    case "writtenFiles": ReadArray(ref json, record.WrittenFiles, (ref Utf8JsonReader r) => r.GetString()!); break;
                    default: json.Skip(); break;
                }
            }

            return record.Version == CurrentVersion ? record : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private delegate T ReadValue<T>(ref Utf8JsonReader json);

    private static void ReadArray<T>(ref Utf8JsonReader json, List<T> into, ReadValue<T> read)
    {
        if (json.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("an array was expected");
        }

        while (Next(ref json) != JsonTokenType.EndArray)
        {
            into.Add(read(ref json));
        }
    }

    /// <remarks>
    /// Property names are compared in place and a value equal to the previous output's (its source, its format) is that
    /// same string: a record of 1,000 outputs is read into little more than the strings the build hands on.
    /// </remarks>
    private static JobOutput ReadOutput(ref Utf8JsonReader json, JobOutput? previous)
    {
        if (json.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("an object was expected");
        }

        string file = "", targetPath = "", itemSpec = "", format = "";
        int? width = null, height = null;
        while (Next(ref json) == JsonTokenType.PropertyName)
        {
            if (json.ValueTextEquals("file"u8))
            {
                file = NextString(ref json, null);
            }
            else if (json.ValueTextEquals("targetPath"u8))
            {
                targetPath = NextString(ref json, null);
            }
            else if (json.ValueTextEquals("itemSpec"u8))
            {
                itemSpec = NextString(ref json, previous?.ItemSpec);
            }
            else if (json.ValueTextEquals("format"u8))
            {
                format = NextString(ref json, previous?.Format);
            }
            else if (json.ValueTextEquals("width"u8))
            {
                width = NextNumber(ref json);
            }
            else if (json.ValueTextEquals("height"u8))
            {
                height = NextNumber(ref json);
            }
            else
            {
                Next(ref json);
                json.Skip();
            }
        }

        return new JobOutput(file, targetPath, itemSpec, format, width, height);
    }

    /// <summary>The next value, a string: <paramref name="same"/> itself when the text is equal to it.</summary>
    private static string NextString(ref Utf8JsonReader json, string? same)
    {
        Next(ref json);
        return same != null && json.ValueTextEquals(same) ? same : json.GetString()!;
    }

    private static int? NextNumber(ref Utf8JsonReader json) => Next(ref json) == JsonTokenType.Null ? null : json.GetInt32();

    private static Diagnostic ReadDiagnostic(ref Utf8JsonReader json)
    {
        string code = "", message = "";
        string? file = null;
        int? line = null, column = null;
        var severity = DiagnosticSeverity.Warning;
        ReadObject(ref json, (string name, ref Utf8JsonReader r) =>
        {
            switch (name)
            {
                case "code": code = r.GetString()!; break;
                case "severity": severity = (DiagnosticSeverity)Enum.Parse(typeof(DiagnosticSeverity), r.GetString()!); break;
                case "message": message = r.GetString()!; break;
                case "file": file = r.GetString(); break;
                case "line": line = r.GetInt32(); break;
                case "column": column = r.GetInt32(); break;
                default: r.Skip(); break;
            }
        });
        return new Diagnostic(code, severity, message, file) { Line = line, Column = column };
    }

    private delegate void ReadProperty(string name, ref Utf8JsonReader json);

    private static void ReadObject(ref Utf8JsonReader json, ReadProperty read)
    {
        if (json.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("an object was expected");
        }

        while (Next(ref json) == JsonTokenType.PropertyName)
        {
            string name = json.GetString()!;
            Next(ref json);
            read(name, ref json);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, int? value)
    {
        if (value is int number)
        {
            json.WriteNumber(name, number);
        }
    }

    private static void Expect(ref Utf8JsonReader json, JsonTokenType type)
    {
        if (Next(ref json) != type)
        {
            throw new JsonException($"{type} was expected");
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader json) =>
        json.Read() ? json.TokenType : throw new JsonException("the record ends too soon");
}
