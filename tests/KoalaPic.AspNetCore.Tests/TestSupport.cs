using System.Net;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Razor.TagHelpers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace KoalaPic.AspNetCore.Tests;

/// <summary>A temp folder of real manifest files, and an app around it (services, environment, request path base).</summary>
public sealed class TestApp : IDisposable
{
    public TestApp(string environment = "Production", string pathBase = "", Action<KoalaPicOptions>? configure = null, bool register = true, IFileProvider? webRoot = null)
    {
        Directory.CreateDirectory(ManifestDirectory);
        Environment = environment;
        PathBase = pathBase;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IWebHostEnvironment>(new TestWebHostEnvironment(environment) { WebRootFileProvider = webRoot ?? new NullFileProvider() });
        services.AddSingleton<IHostEnvironment>(sp => sp.GetRequiredService<IWebHostEnvironment>());
        services.AddSingleton<NavigationManager>(new TestNavigationManager("http://localhost" + (pathBase.Length == 0 ? "/" : pathBase + "/")));
        if (register)
        {
            services.AddKoalaPic(o =>
            {
                o.ManifestDirectory = ManifestDirectory;
                configure?.Invoke(o);
            });
        }

        Services = services.BuildServiceProvider();
    }

    public string ManifestDirectory { get; } = Path.Combine(Path.GetTempPath(), "koalapic-aspnet-tests", Guid.NewGuid().ToString("N"), "koalapic");

    public string Environment { get; }

    public string PathBase { get; }

    public ServiceProvider Services { get; }

    public string Write(string fileName, string json)
    {
        string path = Path.Combine(ManifestDirectory, fileName);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Runs the real tag helper as Razor would and returns what it writes.</summary>
    public string RenderTagHelper(string src, params (string Name, object? Value)[] attributes) =>
        RenderTagHelper(src, attributes, Array.Empty<(string? Media, string? Src, string? Sizes)>());

    /// <summary>
    /// Runs the real tag helper with <c>&lt;koala-source&gt;</c> children, each a real <see cref="KoalaSourceTagHelper"/>
    /// run as Razor runs a child (when the parent asks for its content, with a copy of the parent's items).
    /// </summary>
    public string RenderTagHelper(string src, (string Name, object? Value)[] attributes, (string? Media, string? Src, string? Sizes)[] sources)
    {
        var http = new DefaultHttpContext { RequestServices = Services };
        http.Request.PathBase = PathBase;
#pragma warning disable CS0618 // the parameterless ViewContext is there for tests
        var helper = new KoalaImgTagHelper { Src = src, ViewContext = new ViewContext { HttpContext = http } };
#pragma warning restore CS0618
        var all = new TagHelperAttributeList { new TagHelperAttribute("src", src) };
        var unbound = new TagHelperAttributeList();
        foreach ((string name, object? value) in attributes)
        {
            TagHelperAttribute attribute = value is Minimized
                ? new TagHelperAttribute(name)
                : new TagHelperAttribute(name, value);
            all.Add(attribute);
            unbound.Add(attribute);
        }

        var context = new TagHelperContext("koala-img", all, new Dictionary<object, object>(), "test");
        var output = new TagHelperOutput("koala-img", unbound, (_, _) =>
        {
            foreach ((string? media, string? source, string? sizes) in sources)
            {
                var child = new KoalaSourceTagHelper { Media = media, Src = source, Sizes = sizes };
                var childContext = new TagHelperContext("koala-source", new TagHelperAttributeList(), new Dictionary<object, object>(context.Items), "child");
                var childOutput = new TagHelperOutput("koala-source", new TagHelperAttributeList(), (_, _) => Task.FromResult<TagHelperContent>(new DefaultTagHelperContent()));
                child.Process(childContext, childOutput);
                Assert.True(childOutput.TagName == null && childOutput.Content.IsEmptyOrWhiteSpace, "a <koala-source> writes nothing");
            }

            return Task.FromResult<TagHelperContent>(new DefaultTagHelperContent());
        })
        {
            TagMode = sources.Length == 0 ? TagMode.SelfClosing : TagMode.StartTagAndEndTag,
        };
        helper.ProcessAsync(context, output).GetAwaiter().GetResult();
        using var writer = new StringWriter();
        output.WriteTo(writer, HtmlEncoder.Default);
        return writer.ToString();
    }

    /// <summary>Renders the real component with the framework's static HtmlRenderer.</summary>
    public async Task<string> RenderComponentAsync(IDictionary<string, object?> parameters)
    {
        await using var renderer = new HtmlRenderer(Services, Services.GetRequiredService<ILoggerFactory>());
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<KoalaImg>(ParameterView.FromDictionary(parameters));
            return output.ToHtmlString();
        });
    }

    public void Dispose()
    {
        Services.Dispose();
        Directory.Delete(Path.GetDirectoryName(ManifestDirectory)!, recursive: true);
    }

    /// <summary>Marks a minimized attribute (<c>hidden</c>) in <see cref="RenderTagHelper"/>.</summary>
    public sealed class Minimized
    {
        public static readonly Minimized Value = new();
    }
}

/// <summary>
/// The apps a test class makes, each with the same manifest files written into it, all disposed with the class: a
/// test class holds one and disposes it in its own Dispose.
/// </summary>
public sealed class TestApps : IDisposable
{
    private readonly List<TestApp> apps = new();
    private readonly (string FileName, string Json)[] manifests;

    public TestApps(params (string FileName, string Json)[] manifests) => this.manifests = manifests;

    public TestApp Create(string environment = "Production", string pathBase = "", Action<KoalaPicOptions>? configure = null)
    {
        var app = new TestApp(environment, pathBase, configure);
        foreach ((string fileName, string json) in manifests)
        {
            app.Write(fileName, json);
        }

        apps.Add(app);
        return app;
    }

    public void Dispose()
    {
        foreach (TestApp app in apps)
        {
            app.Dispose();
        }
    }
}

public sealed class TestWebHostEnvironment : IWebHostEnvironment
{
    public TestWebHostEnvironment(string environmentName) => EnvironmentName = environmentName;

    public string EnvironmentName { get; set; }

    public string ApplicationName { get; set; } = "TestApp";

    public string WebRootPath { get; set; } = "";

    public IFileProvider WebRootFileProvider { get; set; } = new NullFileProvider();

    public string ContentRootPath { get; set; } = "";

    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}

public sealed class TestNavigationManager : NavigationManager
{
    public TestNavigationManager(string baseUri) => Initialize(baseUri, baseUri);
}

/// <summary>
/// A strict reader for the flat markup KoalaPic writes: the whole string must be start tags with double-quoted (or
/// minimized) attributes and end tags; any text, stray quote or unexpected element fails the test.
/// </summary>
public static partial class Html
{
    public sealed record Element(string Name, List<KeyValuePair<string, string?>> Attributes)
    {
        public string? this[string name] => Attributes.FirstOrDefault(a => a.Key == name).Value;

        public bool Has(string name) => Attributes.Any(a => a.Key == name);

        public IEnumerable<string> Names => Attributes.Select(a => a.Key);
    }

    [GeneratedRegex("\\G(?:<(?<name>[a-z]+)(?<attrs>(?:\\s+[^\\s\"'<>/=]+(?:=\"[^\"<>]*\")?)*)\\s*/?>|</(?<end>[a-z]+)>)")]
    private static partial Regex Tag();

    [GeneratedRegex("\\s+(?<n>[^\\s\"'<>/=]+)(?:=\"(?<v>[^\"<>]*)\")?")]
    private static partial Regex Attribute();

    /// <summary>The start tags, in document order; end tags are checked to balance picture.</summary>
    public static List<Element> Parse(string html)
    {
        var elements = new List<Element>();
        int position = 0;
        var open = new Stack<string>();
        while (position < html.Length)
        {
            Match match = Tag().Match(html, position);
            Assert.True(match.Success, $"unexpected markup at {position}: {html.Substring(position)}");
            if (match.Groups["end"].Success)
            {
                Assert.Equal(open.Pop(), match.Groups["end"].Value);
            }
            else
            {
                string name = match.Groups["name"].Value;
                var attributes = Attribute().Matches(match.Groups["attrs"].Value)
                    .Select(m => new KeyValuePair<string, string?>(m.Groups["n"].Value, m.Groups["v"].Success ? WebUtility.HtmlDecode(m.Groups["v"].Value) : null))
                    .ToList();
                Assert.Equal(attributes.Count, attributes.Select(a => a.Key).Distinct().Count());
                elements.Add(new Element(name, attributes));
                if (name == "picture")
                {
                    open.Push(name);
                }
            }

            position += match.Length;
        }

        Assert.Empty(open);
        Assert.All(elements, e => Assert.Contains(e.Name, new[] { "picture", "source", "img" }));
        return elements;
    }
}

public static class Manifests
{
    /// <summary>avif;webp;jpg at 480 and 960 (photo.png, with a blur placeholder), as KoalaPic.Build writes it.</summary>
    public const string App = """
        {
          "version": 1,
          "images": [
            {
              "source": "wwwroot/img/photo.png",
              "path": "/img/photo.png",
              "placeholder": { "color": "#8a7f6e", "blur": "data:image/webp;base64,UklGRh4AAABXRUJQVlA4+/8=" },
              "variants": [
                { "url": "/img/photo-480w.avif", "format": "avif", "width": 480, "height": 320, "bytes": 12345 },
                { "url": "/img/photo-960w.avif", "format": "avif", "width": 960, "height": 640, "bytes": 34567 },
                { "url": "/img/photo-480w.webp", "format": "webp", "width": 480, "height": 320, "bytes": 15000 },
                { "url": "/img/photo-960w.webp", "format": "webp", "width": 960, "height": 640, "bytes": 40000 },
                { "url": "/img/photo-960w.jpg",  "format": "jpg",  "width": 960, "height": 640, "bytes": 30000 },
                { "url": "/img/photo-480w.jpg",  "format": "jpg",  "width": 480, "height": 320, "bytes": 20000 }
              ]
            },
            {
              "source": "wwwroot/img/modern.png",
              "path": "/img/modern.png",
              "placeholder": { "color": "#102030" },
              "variants": [
                { "url": "/img/modern-400w.avif", "format": "avif", "width": 400, "height": 300, "bytes": 1 },
                { "url": "/img/modern-800w.avif", "format": "avif", "width": 800, "height": 600, "bytes": 2 },
                { "url": "/img/modern-400w.webp", "format": "webp", "width": 400, "height": 300, "bytes": 3 },
                { "url": "/img/modern-800w.webp", "format": "webp", "width": 800, "height": 600, "bytes": 4 }
              ]
            },
            {
              "source": "wwwroot/img/logo.png",
              "path": "/img/logo.png",
              "variants": [
                { "url": "/img/logo.webp", "format": "webp", "width": 200, "height": 100, "bytes": 5 },
                { "url": "/img/logo-old.png", "format": "png", "width": null, "height": null, "bytes": 6 }
              ]
            },
            {
              "source": "wwwroot/img/old.jpg",
              "path": "/img/old.jpg",
              "placeholder": null,
              "variants": [
                { "url": "/img/old-a.webp", "format": "webp", "bytes": 5 },
                { "url": "/img/old-b.webp", "format": "webp", "bytes": 6 },
                { "url": "/img/old.jpg", "format": "jpg", "width": null, "height": null, "bytes": 6 }
              ]
            }
          ]
        }
        """;

    public const string Library = """
        {
          "version": 1,
          "images": [
            {
              "source": "wwwroot/icons/star.png",
              "path": "/_content/Lib/icons/star.png",
              "variants": [
                { "url": "/_content/Lib/icons/star-32w.webp", "format": "webp", "width": 32, "height": 32, "bytes": 100 },
                { "url": "/_content/Lib/icons/star-64w.webp", "format": "webp", "width": 64, "height": 64, "bytes": 200 },
                { "url": "/_content/Lib/icons/star-32w.png", "format": "png", "width": 32, "height": 32, "bytes": 300 },
                { "url": "/_content/Lib/icons/star-64w.png", "format": "png", "width": 64, "height": 64, "bytes": 400 }
              ]
            }
          ]
        }
        """;
}
