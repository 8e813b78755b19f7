using System.Diagnostics;

namespace KoalaPic.Build.Tests;

internal static class ProcessExtensions
{
    /// <summary>For short helper processes (mkfifo): waits and returns the exit code.</summary>
    public static int WaitForExitAndCode(this Process process)
    {
        process.WaitForExit();
        return process.ExitCode;
    }
}
