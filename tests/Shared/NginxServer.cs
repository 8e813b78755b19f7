using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace KoalaPic.Build.Tests;

/// <summary>
/// A real nginx on a loopback port, as a team would run a shared KoalaPic cache: WebDAV PUT under <c>/cache/</c>
/// (anyone), the same behind basic auth under <c>/private/</c> (<see cref="User"/>/<see cref="Password"/>), and
/// <c>/broken/</c> answering 503, <c>/readonly/</c> a plain static folder (GET only: PUT is 405). Runs as the current user with its config, pid, logs and files in a temporary folder
/// (<c>nginx -p &lt;dir&gt; -c &lt;conf&gt; -g 'daemon off;'</c>). Without nginx, <see cref="Require"/> skips (fails in CI).
/// </summary>
public sealed class NginxServer : IDisposable
{
    public const string User = "koala";
    public const string Password = "s3cret-for-tests";

    private readonly Process? process;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "koalapic-nginx-" + Guid.NewGuid().ToString("N").Substring(0, 8));

    public NginxServer()
    {
        Executable = SystemRequirement.FindOnPath("nginx") ?? new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists);
        if (Executable == null)
        {
            return;
        }

        Directory.CreateDirectory(Path.Combine(folder, "data", "cache"));
        Directory.CreateDirectory(Path.Combine(folder, "data", "private"));
        Directory.CreateDirectory(Path.Combine(folder, "logs"));
        Port = FreePort();
        string sha = Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes(Password)));
        File.WriteAllText(Path.Combine(folder, "htpasswd"), $"{User}:{{SHA}}{sha}\n");
        string conf = Path.Combine(folder, "nginx.conf");
        // Running as root (a CI container), nginx's workers would drop to 'nobody', who cannot write this folder.
        string user = Environment.UserName == "root" ? "user root;\n" : "";
        File.WriteAllText(conf, $$"""
            {{user}}worker_processes 1;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/logs/error.log;
            events { worker_connections 256; }
            http {
              access_log {{folder}}/logs/access.log;
              client_body_temp_path {{folder}}/body;
              proxy_temp_path {{folder}}/proxy;
              fastcgi_temp_path {{folder}}/fastcgi;
              uwsgi_temp_path {{folder}}/uwsgi;
              scgi_temp_path {{folder}}/scgi;
              server {
                listen 127.0.0.1:{{Port}};
                root {{folder}}/data;
                client_max_body_size 64m;
                location /cache/ { dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r; }
                location /private/ {
                  dav_methods PUT; create_full_put_path on;
                  auth_basic "koalapic"; auth_basic_user_file {{folder}}/htpasswd;
                }
                location /broken/ { return 503; }
                location /readonly/ { }
              }
            }
            """);
        var start = new ProcessStartInfo(Executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { "-p", folder, "-c", conf, "-g", "daemon off;" })
        {
            start.ArgumentList.Add(arg);
        }

        process = Process.Start(start)!;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Listening())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                StartError = "nginx did not start: " + process.StandardError.ReadToEnd() + ReadLog();
                return;
            }

            Thread.Sleep(50);
        }
    }

    public string? Executable { get; }

    public int Port { get; }

    /// <summary>Why nginx is installed but not serving; null when it serves.</summary>
    public string? StartError { get; }

    public bool Running => Executable != null && StartError == null;

    /// <summary>The base URL of a location: "cache", "private" or "broken", plus a folder of the test's own.</summary>
    public string Url(string location, string folderName) => $"http://127.0.0.1:{Port}/{location}/{folderName}/";

    /// <summary>The files stored under a location's folder.</summary>
    public IReadOnlyList<string> Stored(string location, string folderName)
    {
        string dir = Path.Combine(folder, "data", location, folderName);
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories) : Array.Empty<string>();
    }

    public string DataPath(string location, string folderName) => Path.Combine(folder, "data", location, folderName);

    /// <summary>Skips the test (fails it in CI) unless nginx serves.</summary>
    public void Require()
    {
        if (Executable == null)
        {
            SystemRequirement.Require(false, "nginx is not installed (the remote cache tests run a real nginx). Install it: sudo apt-get install -y nginx (Debian/Ubuntu), brew install nginx (macOS).");
        }

        if (StartError != null)
        {
            throw new InvalidOperationException(StartError);
        }
    }

    public void Dispose()
    {
        try
        {
            if (process is { HasExited: false })
            {
                // The whole tree: killing only the master would leave its worker orphaned, serving on.
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process?.Dispose();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A loopback port nothing listens on (for connection-refused tests too).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private bool Listening()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private string ReadLog()
    {
        string log = Path.Combine(folder, "logs", "error.log");
        return File.Exists(log) ? " " + File.ReadAllText(log) : "";
    }
}

/// <summary>One nginx for a test class (starting one per test would cost more than the tests).</summary>
public sealed class NginxFixture : IDisposable
{
    public NginxServer Server { get; } = new();

    public void Dispose() => Server.Dispose();
}
