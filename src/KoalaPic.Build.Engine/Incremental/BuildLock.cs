using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;

namespace KoalaPic.Build.Engine;

/// <summary>Another build of the same project kept its conversion lock for longer than the batch waits (KP3001).</summary>
public sealed class ConcurrentBuildException : Exception
{
    public ConcurrentBuildException(string message) : base(message) { }
}

/// <summary>
/// One batch at a time per project folder, across processes: an IDE build and a terminal build of the same project
/// would otherwise both rewrite state.json and delete each other's outputs as stale. The lock is a file opened with
/// FileShare.None (LockFileEx on Windows, flock on Unix), so it is released by the OS when its holder dies, even by
/// kill -9: there is never a stale lock to clean up.
/// </summary>
internal sealed class BuildLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly FileStream stream;

    private BuildLock(FileStream stream) => this.stream = stream;

    /// <summary>The lock file of the batch whose state file is <paramref name="stateFile"/>.</summary>
    public static string PathFor(string stateFile) =>
        new JobLayout(Path.GetDirectoryName(Path.GetFullPath(stateFile))!).LockFile;

    /// <exception cref="ConcurrentBuildException">Still held by another build after <paramref name="timeout"/>.</exception>
    /// <exception cref="IOException">The lock file cannot be created (for example, its folder is not writable).</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public static BuildLock Acquire(string lockFile, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new BuildLock(new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException ex) when (IsHeldByAnother(ex))
            {
                if (waited.Elapsed >= timeout)
                {
                    throw new ConcurrentBuildException(string.Format(
                        CultureInfo.InvariantCulture,
                        "KoalaPic: another build of this project is converting images (it holds '{0}'); waited {1:0} s. Let it finish, then build again.",
                        lockFile,
                        waited.Elapsed.TotalSeconds));
                }

                cancellationToken.WaitHandle.WaitOne(PollInterval);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    public void Dispose() => stream.Dispose();

    /// <summary>A sharing or lock violation: Windows' ERROR_SHARING_VIOLATION/ERROR_LOCK_VIOLATION, or EWOULDBLOCK from flock.</summary>
    private static bool IsHeldByAnother(IOException ex)
    {
        if (ex.GetType() != typeof(IOException))
        {
            return false; // DirectoryNotFound, PathTooLong, FileNotFound: not a lock.
        }

        int code = ex.HResult & 0xFFFF;
        return code is 32 or 33 // Windows
            || ex.HResult is 11 or 35; // EWOULDBLOCK on Linux, macOS
    }
}
