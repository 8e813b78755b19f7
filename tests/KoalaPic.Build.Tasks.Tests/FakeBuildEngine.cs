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

    public IReadOnlyList<BuildErrorEventArgs> Errors { get { lock (gate) { return errors.ToList(); } } }

    public IReadOnlyList<BuildWarningEventArgs> Warnings { get { lock (gate) { return warnings.ToList(); } } }

    public IReadOnlyList<BuildMessageEventArgs> Messages { get { lock (gate) { return messages.ToList(); } } }

    /// <summary>The project file the task is said to run in (MSBuild names it in events without a file of their own).</summary>
    public string ProjectFileOfTaskNode { get; set; } = "fake.csproj";

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public void LogErrorEvent(BuildErrorEventArgs e) { lock (gate) { errors.Add(e); } }

    public void LogWarningEvent(BuildWarningEventArgs e) { lock (gate) { warnings.Add(e); } }

    public void LogMessageEvent(BuildMessageEventArgs e) { lock (gate) { messages.Add(e); } }

    public void LogCustomEvent(CustomBuildEventArgs e) { }

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException("KoalaPic's tasks build no other project.");

    /// <summary>Every error, warning and message, one line each, for assertion messages.</summary>
    public string Log
    {
        get
        {
            lock (gate)
            {
                return string.Join(
                    Environment.NewLine,
                    errors.Select(e => $"error {e.Code} {e.File}({e.LineNumber}): {e.Message}")
                        .Concat(warnings.Select(w => $"warning {w.Code} {w.File}({w.LineNumber}): {w.Message}"))
                        .Concat(messages.Select(m => $"message [{m.Importance}] {m.Message}")));
            }
        }
    }
}
