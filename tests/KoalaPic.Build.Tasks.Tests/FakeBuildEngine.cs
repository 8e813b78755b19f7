using System.Collections;
using Microsoft.Build.Framework;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// The build engine a task sees, without MSBuild: it records every error, warning and message the task logs, with
/// code, file, line and importance, so tests can assert on them (after MAUI Resizetizer's MSBuildTaskFixture and
/// SourceLink's MockEngine). Thread-safe, as tasks may log from worker threads.
/// </summary>
public sealed class FakeBuildEngine : IBuildEngine
{
    private readonly object gate = new();
    private readonly List<BuildErrorEventArgs> errors = new();
    private readonly List<BuildWarningEventArgs> warnings = new();
    private readonly List<BuildMessageEventArgs> messages = new();
    private readonly List<LazyFormattedBuildEventArgs> events = new();

    public IReadOnlyList<BuildErrorEventArgs> Errors { get { lock (gate) { return errors.ToList(); } } }

    public IReadOnlyList<BuildWarningEventArgs> Warnings { get { lock (gate) { return warnings.ToList(); } } }

    public IReadOnlyList<BuildMessageEventArgs> Messages { get { lock (gate) { return messages.ToList(); } } }

    /// <summary>Errors, warnings and messages in the order they were logged.</summary>
    public IReadOnlyList<LazyFormattedBuildEventArgs> Events { get { lock (gate) { return events.ToList(); } } }

    /// <summary>Called with each event as it is logged, on the logging thread: a test cancels a task from here
    /// (what MSBuild does through <see cref="ICancelableTask.Cancel"/> when the user presses Ctrl+C).</summary>
    public Action<LazyFormattedBuildEventArgs>? OnEvent { get; set; }

    /// <summary>The project file the task is said to run in (MSBuild names it in events without a file of their own).</summary>
    public string ProjectFileOfTaskNode { get; set; } = "fake.csproj";

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public void LogErrorEvent(BuildErrorEventArgs e) => Record(errors, e);

    public void LogWarningEvent(BuildWarningEventArgs e) => Record(warnings, e);

    public void LogMessageEvent(BuildMessageEventArgs e) => Record(messages, e);

    private void Record<T>(List<T> list, T e)
        where T : LazyFormattedBuildEventArgs
    {
        lock (gate)
        {
            list.Add(e);
            events.Add(e);
        }

        OnEvent?.Invoke(e);
    }

    public void LogCustomEvent(CustomBuildEventArgs e) { }

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException("KoalaPic's tasks build no other project.");

    /// <summary>Every error, warning and message in order, one line each, for assertion messages.</summary>
    public string Log
    {
        get
        {
            lock (gate)
            {
                return string.Join(Environment.NewLine, events.Select(e => e switch
                {
                    BuildErrorEventArgs error => $"error {error.Code} {error.File}({error.LineNumber}): {error.Message}",
                    BuildWarningEventArgs warning => $"warning {warning.Code} {warning.File}({warning.LineNumber}): {warning.Message}",
                    BuildMessageEventArgs message => $"message [{message.Importance}] {message.Message}",
                    _ => e.Message,
                }));
            }
        }
    }
}
