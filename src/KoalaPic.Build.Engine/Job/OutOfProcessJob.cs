using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Runs an <see cref="ImageJob"/> in the koalapic process (<c>dotnet exec koalapic.dll job.json</c>) and returns the
/// same <see cref="JobResult"/> as an in-process run. Used where libvips cannot be loaded into the calling process
/// (.NET Framework MSBuild), and on request to keep native code out of a long-lived build node.
/// </summary>
public static class OutOfProcessJob
{
    /// <param name="dotnetHost">The dotnet executable (MSBuild's DOTNET_HOST_PATH), or null to find it on PATH.</param>
    /// <param name="cliPath">koalapic.dll.</param>
    /// <param name="log">Receives koalapic's log lines as they come.</param>
    public static JobResult Run(string? dotnetHost, string cliPath, JobInput input, Action<JobLog>? log, CancellationToken cancellationToken)
    {
        var layout = new JobLayout(input.IntermediateDirectory);
        Directory.CreateDirectory(layout.Directory);
        // One input file per run: two builds of the project at once must not read each other's (or delete it).
        string inputFile = layout.JobFile(Guid.NewGuid().ToString("N").Substring(0, 8));
        AtomicFile.Write(inputFile, Encoding.UTF8.GetBytes(JobProtocol.Serialize(input)));

        var start = new ProcessStartInfo(string.IsNullOrEmpty(dotnetHost) ? "dotnet" : dotnetHost!)
        {
            Arguments = "exec " + Quote(cliPath) + " " + Quote(inputFile),
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };

        JobResult? result = null;
        var errors = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (string.IsNullOrWhiteSpace(e.Data))
            {
                return;
            }

            JobMessage? message = JobProtocol.Deserialize<JobMessage>(e.Data!);
            if (message?.Log != null)
            {
                log?.Invoke(message.Log);
            }

            result ??= message?.Result;
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };

        try
        {
            try
            {
                process.Start();
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                return ImageJob.Failed(input, DiagnosticCodes.EngineLoadFailed, $"KoalaPic could not start '{start.FileName} {start.Arguments}': {ex.Message.TrimEnd('.', ' ')}. Install the .NET SDK 8 or later (it provides dotnet), or set DOTNET_HOST_PATH to dotnet.");
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using (cancellationToken.Register(() => Kill(process)))
            {
                process.WaitForExit();
            }
        }
        finally
        {
            AtomicFile.TryDelete(inputFile);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // Killed, which leaves only whole files: every write is a rename.
            return ImageJob.Cancelled(input);
        }

        return result ?? ImageJob.Failed(
            input,
            DiagnosticCodes.EngineLoadFailed,
            $"The KoalaPic engine process '{start.FileName} {start.Arguments}' exited with code {process.ExitCode} without a result. {errors.ToString().Trim()}");
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static string Quote(string argument) => "\"" + argument.Replace("\"", "\\\"") + "\"";
}
