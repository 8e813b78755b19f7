using System.Diagnostics;
using System.Reflection;
using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The koalapic process (src/KoalaPic.Build.Cli), run as the .NET Framework task runs it: dotnet exec koalapic.dll request.json.</summary>
internal static class Koalapic
{
    public static string DllPath { get; } =
        typeof(Koalapic).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "KoalapicPath").Value
        ?? throw new InvalidOperationException("KoalapicPath assembly metadata is missing.");

    /// <summary>Writes a batch request file for koalapic.</summary>
    public static string WriteRequest(string path, BatchSettings settings, IReadOnlyList<ImageRequest> requests)
    {
        File.WriteAllText(path, BatchProtocol.Serialize(new BatchRequest { Settings = settings, Requests = requests.ToList() }));
        return path;
    }

    public static Process Start(string requestFile)
    {
        Assert.True(File.Exists(DllPath), $"koalapic is not built at {DllPath}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(DllPath);
        start.ArgumentList.Add(requestFile);
        return Process.Start(start)!;
    }

    /// <summary>Runs koalapic to the end and parses its JSON lines.</summary>
    public static KoalapicRun Run(string requestFile)
    {
        using Process process = Start(requestFile);
        Task<string> errors = process.StandardError.ReadToEndAsync();
        var messages = new List<BatchMessage>();
        while (process.StandardOutput.ReadLine() is string line)
        {
            if (line.Length > 0)
            {
                messages.Add(BatchProtocol.Deserialize<BatchMessage>(line)!);
            }
        }

        process.WaitForExit();
        return new KoalapicRun(process.ExitCode, messages, errors.Result);
    }
}

internal sealed record KoalapicRun(int ExitCode, IReadOnlyList<BatchMessage> Messages, string Errors)
{
    public BatchMessage Final => Messages.LastOrDefault(m => m.Result != null)
        ?? throw new Xunit.Sdk.XunitException($"koalapic exited with {ExitCode} without a result. stderr: {Errors} stdout: {string.Join("\n", Messages.Select(BatchProtocol.Serialize))}");

    public BatchResult Result => Final.Result!;
}
