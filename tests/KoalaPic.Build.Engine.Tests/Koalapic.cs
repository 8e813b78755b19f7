using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The koalapic process (src/KoalaPic.Build.Cli), run as the .NET Framework task runs it: dotnet exec koalapic.dll job.json.</summary>
internal static class Koalapic
{
    public static string DllPath { get; } =
        typeof(Koalapic).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "KoalapicPath").Value
        ?? throw new InvalidOperationException("KoalapicPath assembly metadata is missing.");

    /// <summary>Writes a job file for koalapic over the workspace's project, obj/koalapic and cache.</summary>
    public static string WriteJob(BatchWorkspace ws, string fileName, int parallelism, IEnumerable<JobItem> items)
    {
        string path = Path.Combine(ws.Root, fileName);
        JobInput input = ws.Job(items, parallelism);
        input.Natives = Natives;
        File.WriteAllText(path, JobProtocol.Serialize(input));
        return path;
    }

    /// <summary>
    /// koalapic carries no natives (as in the package): like the task, the job names the folders, here those of the
    /// NetVips.Native and Magick.NET packages that this test project's restore brought into the NuGet folder.
    /// </summary>
    public static NativeLocations Natives { get; } = CreateNatives();

    /// <summary>The Magick.NET package the engine is built against here (src/KoalaPic.Build.DevelopmentNatives.props), also its assembly's name.</summary>
    public static string MagickNetPackage => Metadata("MagickNetPackage");

    private static string Metadata(string key) => typeof(Koalapic).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static NativeLocations CreateNatives()
    {
        string root = Metadata("NuGetPackageRoot");
        string rid = RuntimeInformation.RuntimeIdentifier;
        return new NativeLocations(
            Path.Combine(root, "netvips.native." + rid, VipsRuntime.BundledLibvipsVersion, "runtimes", rid, "native"),
            Path.Combine(root, MagickNetPackage.ToLowerInvariant(), Metadata("MagickNetVersion"), "runtimes", rid, "native"),
            rid);
    }

    public static Process Start(string jobFile)
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
        start.ArgumentList.Add(jobFile);
        return Process.Start(start)!;
    }

    /// <summary>Runs koalapic to the end and parses its JSON lines.</summary>
    public static KoalapicRun Run(string jobFile)
    {
        using Process process = Start(jobFile);
        Task<string> errors = process.StandardError.ReadToEndAsync();
        var messages = new List<JobMessage>();
        while (process.StandardOutput.ReadLine() is string line)
        {
            if (line.Length > 0)
            {
                messages.Add(JobProtocol.Deserialize<JobMessage>(line)!);
            }
        }

        process.WaitForExit();
        return new KoalapicRun(process.ExitCode, messages, errors.Result);
    }

    /// <summary>True for a progress line, <c>KoalaPic: [3/24] …</c>.</summary>
    public static bool IsProgress(JobMessage message) => message.Log?.Text.StartsWith("KoalaPic: [", StringComparison.Ordinal) == true;
}

internal sealed record KoalapicRun(int ExitCode, IReadOnlyList<JobMessage> Messages, string Errors)
{
    public JobMessage Final => Messages.LastOrDefault(m => m.Result != null)
        ?? throw new Xunit.Sdk.XunitException($"koalapic exited with {ExitCode} without a result. stderr: {Errors} stdout: {string.Join("\n", Messages.Select(JobProtocol.Serialize))}");

    public JobResult Result => Final.Result!;

    /// <summary>The summary line: <c>KoalaPic: 6 images, 6 converted, 0 up to date, …</c>.</summary>
    public string Summary => Result.Log.Single(l => l.Text.Contains(" images, ", StringComparison.Ordinal)).Text;
}
