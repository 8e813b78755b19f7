using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Runs an <see cref="ImageBatch"/> in the koalapic process (<c>dotnet exec koalapic.dll request.json</c>) and returns
/// the same <see cref="BatchResult"/> as an in-process run. Used where libvips cannot be loaded into the calling
/// process (.NET Framework MSBuild), and on request to keep native code out of a long-lived build node.
/// </summary>
public static class OutOfProcessBatch
{
    /// <param name="dotnetHost">The dotnet executable (MSBuild's DOTNET_HOST_PATH), or null to find it on PATH.</param>
    /// <param name="cliPath">koalapic.dll.</param>
    /// <param name="natives">Where koalapic loads the natives from (the NuGet folder); null for its own probing.</param>
    /// <exception cref="EngineLoadException">koalapic could not start, or libvips could not load inside it.</exception>
    /// <exception cref="IOException">koalapic could not write the batch's state file.</exception>
    /// <exception cref="ConcurrentBuildException">Another build of the project kept the conversion lock too long.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the process is killed, which leaves only whole files.</exception>
    public static BatchResult Run(
        string? dotnetHost,
        string cliPath,
        BatchSettings settings,
        IReadOnlyList<ImageRequest> requests,
        Action<ItemResult, int>? onItemDone,
        CancellationToken cancellationToken,
        NativeLocations? natives = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.StateFile))!);
        // One request file per run: two builds of the project at once must not read each other's (or delete it).
        string requestFile = Path.Combine(
            Path.GetDirectoryName(Path.GetFullPath(settings.StateFile))!,
            "request." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".json");
        AtomicFile.Write(requestFile, System.Text.Encoding.UTF8.GetBytes(
            BatchProtocol.Serialize(new BatchRequest { Settings = settings, Requests = new List<ImageRequest>(requests), Natives = natives })));

        var start = new ProcessStartInfo(string.IsNullOrEmpty(dotnetHost) ? "dotnet" : dotnetHost!)
        {
            Arguments = "exec " + Quote(cliPath) + " " + Quote(requestFile),
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };

        BatchResult? result = null;
        string? engineError = null;
        string? ioError = null;
        string? busyError = null;
        var errors = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (string.IsNullOrWhiteSpace(e.Data))
            {
                return;
            }

            BatchMessage? message = BatchProtocol.Deserialize<BatchMessage>(e.Data!);
            if (message?.Progress != null)
            {
                onItemDone?.Invoke(message.Progress, message.Done);
            }

            result ??= message?.Result;
            engineError ??= message?.EngineError;
            ioError ??= message?.IoError;
            busyError ??= message?.ConcurrentBuildError;
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
                throw new EngineLoadException(
                    $"KoalaPic could not start '{start.FileName} {start.Arguments}': {ex.Message.TrimEnd('.', ' ')}. Install the .NET SDK 8 or later (it provides dotnet), or set DOTNET_HOST_PATH to dotnet.",
                    ex);
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
            AtomicFile.TryDelete(requestFile);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (engineError != null)
        {
            throw new EngineLoadException(engineError, null);
        }

        if (busyError != null)
        {
            throw new ConcurrentBuildException(busyError);
        }

        if (ioError != null)
        {
            throw new IOException(ioError);
        }

        if (result == null)
        {
            throw new EngineLoadException(
                $"The KoalaPic engine process '{start.FileName} {start.Arguments}' exited with code {process.ExitCode} without a result. {errors.ToString().Trim()}",
                null);
        }

        return result;
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
