using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KoalaPic.Build.Tests;

/// <summary>
/// Lines `dotnet test` shows while the tests run, at its default verbosity: xUnit's diagnostic messages, which the
/// Visual Studio runner prints as they arrive (shared/xunit.runner.json turns them on), as
/// "[xUnit.net 00:01:27.75]     KoalaPic.Build.IntegrationTests: dotnet build …". Test output (ITestOutputHelper) and
/// the console are shown only after a test ends, or not at all. Used for progress through slow steps and for skip reasons,
/// which the default output otherwise reduces to "[SKIP]".
/// </summary>
public static class TestLog
{
    private static IMessageSink? sink;

    internal static void Attach(IMessageSink diagnostics) => sink = diagnostics;

    public static void Write(string line) => sink?.OnMessage(new DiagnosticMessage(line));

    /// <summary>The running test as "Class.Method", found on the stack (a test method, or the state machine of an async one).</summary>
    public static string? CurrentTestName()
    {
        foreach (StackFrame frame in new StackTrace().GetFrames())
        {
            MethodBase? method = frame.GetMethod();
            if (method?.DeclaringType is not Type type)
            {
                continue;
            }

            if (method.GetCustomAttributes<FactAttribute>(inherit: true).Any())
            {
                return type.Name + "." + method.Name;
            }

            // async Task Test() runs as <Test>d__12.MoveNext(), a type nested in the test class.
            if (method.Name == "MoveNext" && type.DeclaringType is Type testClass && type.Name.StartsWith('<') && type.Name.IndexOf('>') > 1)
            {
                string name = type.Name.Substring(1, type.Name.IndexOf('>') - 1);
                if (testClass.GetMethod(name, BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)?.GetCustomAttributes<FactAttribute>(inherit: true).Any() == true)
                {
                    return testClass.Name + "." + name;
                }
            }
        }

        return null;
    }
}

/// <summary>xUnit's own framework, which also hands its diagnostic message sink to <see cref="TestLog"/>.</summary>
public sealed class KoalaPicTestFramework : XunitTestFramework
{
    public KoalaPicTestFramework(IMessageSink messageSink)
        : base(messageSink) => TestLog.Attach(messageSink);
}
