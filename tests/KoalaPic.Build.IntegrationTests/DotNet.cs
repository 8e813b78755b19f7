using System.Diagnostics;
using System.Text;
using KoalaPic.Build.Tests;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>The output of one dotnet CLI run.</summary>
public sealed record DotNetResult(int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The lines KoalaPic logged (each starts with "KoalaPic: ", after MSBuild's indentation).</summary>
    public IReadOnlyList<string> KoalaPicLines =>
        Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("KoalaPic: ", StringComparison.Ordinal)).ToList();

    /// <summary>The one summary line, e.g. "KoalaPic: 4 images, 0 converted, 4 up to date, …".</summary>
    public string Summary => KoalaPicLines.Single(l => l.Contains(" images, ", StringComparison.Ordinal));

    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>Runs the real dotnet CLI, isolated from the test host's MSBuild environment.</summary>
public static class DotNet
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static DotNetResult Run(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Run(workingDirectory, environment, onLine: null, arguments);

    /// <param name="onLine">Sees every output line as it arrives, with the running process (to signal it).</param>
    public static DotNetResult Run(string workingDirectory, IReadOnlyDictionary<string, string> environment, Action<string, Process>? onLine, params string[] arguments) =>
        Run(StartInfo(workingDirectory, environment, arguments), Describe(arguments), onLine);

    /// <summary>"dotnet build App.csproj -v:n" for progress lines: absolute paths shortened to their last part.</summary>
    public static string Describe(IEnumerable<string> arguments) =>
        "dotnet " + string.Join(' ', arguments.Select(a => Path.IsPathRooted(a) ? Path.GetFileName(a.TrimEnd('/', '\\')) : a));

    /// <summary>A bash script (commands copied from the README), with the same environment as a dotnet run; stops at the first failing command.</summary>
    public static DotNetResult Shell(string workingDirectory, IReadOnlyDictionary<string, string> environment, string script)
    {
        ProcessStartInfo start = StartInfo(workingDirectory, environment, new[] { "-euo", "pipefail", "-c", script });
        start.FileName = "bash";
        return Run(start, "bash: " + string.Join("; ", script.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), onLine: null);
    }

    private static DotNetResult Run(ProcessStartInfo start, string description, Action<string, Process>? onLine)
    {
        TestLog.Write($"{description} (in {start.WorkingDirectory})");
        var clock = Stopwatch.StartNew();
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (output) output.AppendLine(e.Data);
                onLine?.Invoke(e.Data, process);
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            TestLog.Write($"{description}: killed after {Timeout}");
            throw new TimeoutException($"{description} did not finish in {Timeout}:\n{output}");
        }

        process.WaitForExit();
        TestLog.Write($"{description}: exit {process.ExitCode} after {clock.Elapsed.TotalSeconds:0.0} s");
        lock (output)
        {
            return new DotNetResult(process.ExitCode, output.ToString());
        }
    }

    /// <summary>`dotnet arguments…` with output redirected, free of the test host's MSBuild variables, plus <paramref name="environment"/>.</summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, IReadOnlyDictionary<string, string> environment, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // `dotnet test` runs us with MSBuild variables pointing at its own SDK resolution; a child build must find its own.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSBUILD_EXE_PATH").ToList())
        {
            start.Environment.Remove(name);
        }

        // A test run in GitHub Actions must not append every scenario's summary to the run's own; tests that want one set it.
        start.Environment.Remove("GITHUB_STEP_SUMMARY");

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["MSBUILDTERMINALLOGGER"] = "off";
        foreach (var pair in environment)
        {
            start.Environment[pair.Key] = pair.Value;
        }

        return start;
    }
}
