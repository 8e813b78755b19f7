using System.Diagnostics;
using KoalaPic.Build.Tests;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// Debian's Chromium, headless, with a fresh profile and no background traffic (this machine has no internet, and a
/// test must reach only loopback). Two one-shot modes: the DOM after the page's scripts ran, and a screenshot.
/// </summary>
public sealed class HeadlessChromium
{
    private static readonly string[] Candidates = { "chromium", "chromium-browser", "google-chrome" };
    private readonly string executable;

    private HeadlessChromium(string executable) => this.executable = executable;

    /// <summary>Skips outside CI (fails in CI) when no Chromium is installed: `sudo apt-get install chromium`.</summary>
    public static HeadlessChromium Require()
    {
        string? found = Candidates.Select(SystemRequirement.FindOnPath).FirstOrDefault(p => p != null);
        SystemRequirement.Require(found != null, "Chromium is not installed (Debian/Ubuntu: sudo apt-get install chromium)");
        return new HeadlessChromium(found!);
    }

    /// <summary>The serialised DOM once the page loaded and its timers ran (virtual time, so a slow machine waits too).</summary>
    public string DumpDom(Uri page) => Run(page, "--dump-dom").Output;

    /// <summary>The DOM as <see cref="DumpDom(Uri)"/>, with the window (the layout viewport) at the given size, for media queries.</summary>
    public string DumpDom(Uri page, int width, int height) => Run(page, "--dump-dom", $"--window-size={width},{height}").Output;

    /// <summary>Writes a PNG of the page at the given window size.</summary>
    public void Screenshot(Uri page, string pngPath, int width, int height)
    {
        var result = Run(page, $"--screenshot={pngPath}", $"--window-size={width},{height}", "--hide-scrollbars");
        if (!File.Exists(pngPath))
        {
            throw new InvalidOperationException($"Chromium wrote no screenshot (exit {result.ExitCode}):\n{result.Error}");
        }
    }

    private (int ExitCode, string Output, string Error) Run(Uri page, params string[] mode)
    {
        string profile = Directory.CreateTempSubdirectory("koalapic-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync", "--disable-quic", "--disable-extensions", "--force-device-scale-factor=1",
                "--user-data-dir=" + profile, "--virtual-time-budget=15000",
            }.Concat(mode).Append(page.ToString()))
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"Chromium did not finish with {page} in 120 s");
            }

            process.WaitForExit();
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
