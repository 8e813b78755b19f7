using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
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
        File.WriteAllText(path, BatchProtocol.Serialize(new BatchRequest { Settings = settings, Requests = requests.ToList(), Natives = Natives }));
        return path;
    }

    /// <summary>
    /// koalapic carries no natives (as in the package): like the task, the request names the folders, here those of the
    /// NetVips.Native and Magick.NET-Q8-AnyCPU packages that this test project's restore brought into the NuGet folder.
    /// </summary>
    public static NativeLocations Natives { get; } = CreateNatives();

    private static NativeLocations CreateNatives()
    {
        string Metadata(string key) => typeof(Koalapic).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        string root = Metadata("NuGetPackageRoot");
        string rid = RuntimeInformation.RuntimeIdentifier;
        return new NativeLocations(
            Path.Combine(root, "netvips.native." + rid, VipsRuntime.BundledLibvipsVersion, "runtimes", rid, "native"),
            Path.Combine(root, "magick.net-q8-anycpu", Metadata("MagickNetVersion"), "runtimes", rid, "native"),
            rid);
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
