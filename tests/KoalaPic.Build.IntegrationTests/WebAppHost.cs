using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// A real ASP.NET Core app started with the dotnet CLI on a loopback port the OS picks (--urls http://127.0.0.1:0),
/// stopped with its whole process tree when disposed.
/// </summary>
public sealed class WebAppHost : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process process;
    private readonly StringBuilder output;

    private WebAppHost(Process process, StringBuilder output, Uri baseAddress)
    {
        this.process = process;
        this.output = output;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    /// <summary>`dotnet run --no-build` in the project folder: the Development environment and content root, as a developer runs it.</summary>
    public static WebAppHost Run(TestProject project, IReadOnlyDictionary<string, string> environment) =>
        Start(project.Directory, environment, "run", "--no-build", "--project", project.ProjectFile, "--urls", "http://127.0.0.1:0");

    /// <summary>
    /// `dotnet run --no-build --no-launch-profile` in the project folder: the build output in the Production environment
    /// (no ASPNETCORE_ENVIRONMENT), with the project folder as content root.
    /// </summary>
    public static WebAppHost RunBuildOutputInProduction(TestProject project, IReadOnlyDictionary<string, string> environment) =>
        Start(project.Directory, environment, "run", "--no-build", "--no-launch-profile", "--project", project.ProjectFile, "--urls", "http://127.0.0.1:0");

    /// <summary>
    /// `dotnet App.dll` in the folder that holds it (publish/, or bin/… for the build output), which is then the content
    /// root: the Production environment, as a server runs it.
    /// </summary>
    public static WebAppHost RunInProduction(string directory, string assemblyName) =>
        Start(directory, new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }, assemblyName + ".dll", "--urls", "http://127.0.0.1:0");

    private static WebAppHost Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        ProcessStartInfo start = DotNet.StartInfo(workingDirectory, environment, arguments);
        // The app's environment is the one the test names (dotnet run: launchSettings' Development), not the test host's.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) && !environment.ContainsKey(k)).ToList())
        {
            start.Environment.Remove(name);
        }

        var process = new Process { StartInfo = start };
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        void OnLine(string? line)
        {
            if (line == null)
            {
                return;
            }

            lock (log) log.AppendLine(line);
            Match match = Regex.Match(line, @"Now listening on: (http://127\.0\.0\.1:\d+)");
            if (match.Success)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("the app exited before it listened"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (!listening.Task.Wait(StartTimeout))
            {
                throw new TimeoutException($"the app did not listen within {StartTimeout}");
            }
        }
        catch (Exception ex)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit(10_000);
            lock (log)
            {
                throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} in {workingDirectory}: {ex.GetBaseException().Message}\n{log}");
            }
        }

        return new WebAppHost(process, log, listening.Task.Result);
    }

    /// <summary>What the app has written so far, for assertion messages.</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    public void Dispose()
    {
        Client.Dispose();
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }

        process.WaitForExit(10_000);
        process.Dispose();
    }
}
