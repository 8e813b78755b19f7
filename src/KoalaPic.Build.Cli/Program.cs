using System;
using System.IO;
using System.Text.Json;
using System.Threading;
using KoalaPic.Build.Engine;

namespace KoalaPic.Build.Cli;

/// <summary>
/// koalapic &lt;job.json&gt;: runs one <see cref="ImageJob"/> from a <see cref="JobInput"/> and writes
/// <see cref="JobMessage"/> JSON lines to stdout: log lines as they come, the result last. Exit code 0 when the job
/// ran (its failures are diagnostics in the result), 2 for a bad input file, 130 when cancelled. Killing the process is
/// safe: every file is written to a temporary name and renamed into place.
/// </summary>
public static class Program
{
    /// <summary>A job file lists items and settings: far below this.</summary>
    private const long MaxInputBytes = 256L << 20;

    public static int Main(string[] args)
    {
        if (args.Length != 1 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: koalapic <job.json>");
            return 2;
        }

        JobInput? input;
        try
        {
            input = JsonSerializer.Deserialize<JobInput>(SourceFile.ReadAllBytes(args[0], MaxInputBytes), JobProtocol.Json);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            Console.Error.WriteLine("koalapic: the job file is not valid: " + ex.Message);
            return 2;
        }

        if (input == null)
        {
            Console.Error.WriteLine("koalapic: the job file is empty.");
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

        JobResult result = ImageJob.Run(input, line => Write(new JobMessage { Log = line }), cancellation.Token);
        Write(new JobMessage { Result = result, PeakMemoryBytes = PeakMemoryBytes() });
        return result.Cancelled ? 130 : 0;

        void Write(JobMessage message)
        {
            lock (gate)
            {
                output.WriteLine(JobProtocol.Serialize(message));
                output.Flush();
            }
        }
    }

    private static long PeakMemoryBytes()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
