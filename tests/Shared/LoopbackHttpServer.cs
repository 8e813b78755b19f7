using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KoalaPic.Build.Tests;

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 for download tests: each path serves a body, an error status, a redirect, a
/// stall or a body longer than it declares; every request is counted per path. One request per connection.
/// Hand-written on TcpListener (no web server package) so a test can make it misbehave as real servers do.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<string, Route> routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> hits = new(StringComparer.Ordinal);
    private int totalHits;

    public LoopbackHttpServer()
    {
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    private sealed record Route(int Status, byte[] Body, string? Location = null, bool Stall = false, bool DeclareLength = true, int? DeclaredLength = null, TimeSpan? Trickle = null);

    private readonly ConcurrentQueue<string> authorizations = new();

    /// <summary>Serves a path with "*": for every path that has no route of its own (a cache asks for keys the test does not know).</summary>
    public const string AnyPath = "*";

    /// <summary>The Authorization header of every request that had one, in order.</summary>
    public IReadOnlyCollection<string> Authorizations => authorizations.ToArray();

    /// <summary>Declares the body's length, sends its first <paramref name="sent"/> bytes and closes the connection.</summary>
    public void Truncate(string path, byte[] body, int sent) => routes[path] = new Route(200, body.AsSpan(0, sent).ToArray(), DeclaredLength: body.Length);

    /// <summary>Sends the body one byte at a time, <paramref name="interval"/> apart.</summary>
    public void Trickle(string path, byte[] body, TimeSpan interval) => routes[path] = new Route(200, body, Trickle: interval);

    public int Port { get; }

    /// <summary>Every request received, on any path.</summary>
    public int TotalHits => Volatile.Read(ref totalHits);

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public int Hits(string path) => hits.TryGetValue(path, out int n) ? n : 0;

    public void Serve(string path, byte[] body) => routes[path] = new Route(200, body);

    /// <summary>Sends the body without Content-Length, ending it by closing the connection.</summary>
    public void ServeUndeclared(string path, byte[] body) => routes[path] = new Route(200, body, DeclareLength: false);

    public void Status(string path, int status) => routes[path] = new Route(status, Encoding.ASCII.GetBytes("error " + status));

    public void Redirect(string path, string location, int status = 302) => routes[path] = new Route(status, Array.Empty<byte>(), location);

    /// <summary>Sends headers promising a body, then nothing until the server is disposed.</summary>
    public void Stall(string path) => routes[path] = new Route(200, new byte[1000], Stall: true);

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client = await listener.AcceptTcpClientAsync(stop.Token);
                _ = Task.Run(() => HandleAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                string? path = await ReadRequestPathAsync(stream, authorizations);
                if (path == null)
                {
                    return;
                }

                Interlocked.Increment(ref totalHits);
                hits.AddOrUpdate(path, 1, (_, n) => n + 1);
                Route route = routes.TryGetValue(path, out Route? r) || routes.TryGetValue(AnyPath, out r) ? r : new Route(404, Encoding.ASCII.GetBytes("not found"));
                var head = new StringBuilder();
                head.Append("HTTP/1.1 ").Append(route.Status).Append(' ').Append(Reason(route.Status)).Append("\r\n");
                head.Append("Content-Type: application/octet-stream\r\nConnection: close\r\n");
                if (route.Location != null)
                {
                    head.Append("Location: ").Append(route.Location).Append("\r\n");
                }

                if (route.DeclareLength)
                {
                    head.Append("Content-Length: ").Append(route.DeclaredLength ?? route.Body.Length).Append("\r\n");
                }

                head.Append("\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), stop.Token);
                await stream.FlushAsync(stop.Token);
                if (route.Stall)
                {
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }

                if (route.Trickle is TimeSpan interval)
                {
                    foreach (byte b in route.Body)
                    {
                        await stream.WriteAsync(new[] { b }, stop.Token);
                        await stream.FlushAsync(stop.Token);
                        await Task.Delay(interval, stop.Token);
                    }
                }

                await stream.WriteAsync(route.Trickle == null ? route.Body : Array.Empty<byte>(), stop.Token);
                await stream.FlushAsync(stop.Token);
                client.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>The path of "GET /path HTTP/1.1", after reading the request's headers.</summary>
    private static async Task<string?> ReadRequestPathAsync(NetworkStream stream, ConcurrentQueue<string> authorizations)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[4096];
        while (received.Count < 65536)
        {
            int n = await stream.ReadAsync(buffer);
            if (n == 0)
            {
                return null;
            }

            received.AddRange(buffer.AsSpan(0, n).ToArray());
            string text = Encoding.ASCII.GetString(received.ToArray());
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                string[] requestLine = text.Substring(0, text.IndexOf("\r\n", StringComparison.Ordinal)).Split(' ');
                foreach (string line in text.Split("\r\n"))
                {
                    if (line.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase))
                    {
                        authorizations.Enqueue(line.Substring("Authorization:".Length).Trim());
                    }
                }

                return requestLine.Length >= 2 ? requestLine[1] : null;
            }
        }

        return null;
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        404 => "Not Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
