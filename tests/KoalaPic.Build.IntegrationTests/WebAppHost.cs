using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using KoalaPic.Build.Tests;

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
    private readonly List<Uri> listeningAddresses;

    private WebAppHost(Process process, StringBuilder output, List<Uri> listeningAddresses, Uri baseAddress)
    {
        this.process = process;
        this.output = output;
        this.listeningAddresses = listeningAddresses;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    /// <summary>`dotnet run --no-build` in the project folder: the Development environment and content root, as a developer runs it.</summary>
    public static WebAppHost Run(TestProject project, IReadOnlyDictionary<string, string> environment) =>
        Run(project.Directory, project.ProjectFile, environment);

    /// <summary>`dotnet run --no-build` of a project that is no <see cref="TestProject"/> (one set up as the README says).</summary>
    public static WebAppHost Run(string projectDirectory, string projectFile, IReadOnlyDictionary<string, string> environment) =>
        Start(projectDirectory, environment, StartTimeout, "run", "--no-build", "--project", projectFile, "--urls", "http://127.0.0.1:0");

    /// <summary>
    /// `dotnet watch --non-interactive --no-hot-reload run` in the project folder, as a developer runs it (no browser is
    /// launched). A change to a watched file restarts the app, on a new port: <see cref="LatestAddress"/>. Its build
    /// runs at minimal verbosity, so that KoalaPic's summary lines are in <see cref="Output"/>.
    /// </summary>
    public static WebAppHost Watch(TestProject project, IReadOnlyDictionary<string, string> environment, TimeSpan startTimeout) =>
        Start(
            project.Directory,
            new Dictionary<string, string>(environment) { ["DOTNET_WATCH_SUPPRESS_LAUNCH_BROWSER"] = "1", ["DOTNET_WATCH_SUPPRESS_EMOJIS"] = "1" },
            startTimeout,
            "watch", "--non-interactive", "--no-hot-reload", "--project", project.ProjectFile, "run", "--urls", "http://127.0.0.1:0", "--verbosity", "minimal");

    /// <summary>
    /// `dotnet run --no-build --no-launch-profile` in the project folder: the build output in the Production environment
    /// (no ASPNETCORE_ENVIRONMENT), with the project folder as content root.
    /// </summary>
    public static WebAppHost RunBuildOutputInProduction(TestProject project, IReadOnlyDictionary<string, string> environment) =>
        Start(project.Directory, environment, StartTimeout, "run", "--no-build", "--no-launch-profile", "--project", project.ProjectFile, "--urls", "http://127.0.0.1:0");

    /// <summary>
    /// `dotnet App.dll` in the folder that holds it (publish/, or bin/… for the build output), which is then the content
    /// root: the Production environment, as a server runs it.
    /// </summary>
    public static WebAppHost RunInProduction(string directory, string assemblyName) =>
        Start(directory, new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }, StartTimeout, assemblyName + ".dll", "--urls", "http://127.0.0.1:0");

    private static WebAppHost Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan startTimeout, params string[] arguments)
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
        var addresses = new List<Uri>();
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
                lock (log) addresses.Add(new Uri(match.Groups[1].Value));
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
            if (!listening.Task.Wait(startTimeout))
            {
                throw new TimeoutException($"the app did not listen within {startTimeout}");
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

        TestLog.Write($"{DotNet.Describe(arguments)}: listening on {listening.Task.Result}");
        return new WebAppHost(process, log, addresses, listening.Task.Result);
    }

    /// <summary>What the app has written so far, for assertion messages.</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    /// <summary>Where the app listens now: the last "Now listening on" line (an app restarted by dotnet watch has a new port).</summary>
    public Uri LatestAddress
    {
        get { lock (output) return listeningAddresses[^1]; }
    }

    public bool HasExited => process.HasExited;

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
