using System;
using System.IO;
using System.Text.Json;
using System.Threading;
using KoalaPic.Build.Engine;

namespace KoalaPic.Build.Cli;

/// <summary>
/// koalapic &lt;request.json&gt;: runs one <see cref="ImageBatch"/> and writes <see cref="BatchMessage"/> JSON lines to
/// stdout. Exit code 0 when the batch ran (item failures are in the result), 2 for a bad request, 3 when libvips
/// cannot load, 4 when the batch's state file cannot be written, 5 when another build of the project kept the
/// conversion lock too long, 130 when cancelled. Killing the process is safe: every file is written to a temporary name and renamed into place.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 1 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: koalapic <batch-request.json>");
            return 2;
        }

        BatchRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<BatchRequest>(File.ReadAllBytes(args[0]), BatchProtocol.Json);
        }
        catch (JsonException ex)
        {
            Console.Error.WriteLine("koalapic: the batch request is not valid: " + ex.Message);
            return 2;
        }

        if (request?.Settings == null || request.Requests == null)
        {
            Console.Error.WriteLine("koalapic: the batch request has no settings or requests.");
            return 2;
        }

        var output = Console.Out;
        var gate = new object();
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        // The natives restore brought into the NuGet folder for this machine (the package carries none).
        NativeLocations.Configure(request.Natives);
        try
        {
            BatchResult result = new ImageBatch(request.Settings).Run(
                request.Requests,
                (item, done) =>
                {
                    lock (gate)
                    {
                        output.WriteLine(BatchProtocol.Serialize(new BatchMessage { Progress = item, Done = done }));
                        output.Flush();
                    }
                },
                cancellation.Token);
            lock (gate)
            {
                output.WriteLine(BatchProtocol.Serialize(new BatchMessage { Result = result, PeakMemoryBytes = PeakMemoryBytes() }));
                output.Flush();
            }

            return 0;
        }
        catch (EngineLoadException ex)
        {
            output.WriteLine(BatchProtocol.Serialize(new BatchMessage { EngineError = ex.Message }));
            return 3;
        }
        catch (ConcurrentBuildException ex)
        {
            output.WriteLine(BatchProtocol.Serialize(new BatchMessage { ConcurrentBuildError = ex.Message }));
            return 5;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            output.WriteLine(BatchProtocol.Serialize(new BatchMessage { IoError = ex.Message }));
            return 4;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
    }

    private static long PeakMemoryBytes()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
