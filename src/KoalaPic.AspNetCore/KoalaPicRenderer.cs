using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KoalaPic.AspNetCore;

/// <summary>
/// What the tag helper and the component share beyond the markup rules: finding the manifest and options in the
/// services (or falling back to the shared defaults when <c>AddKoalaPic()</c> was not called), looking up the src, and
/// deciding between <c>&lt;picture&gt;</c>, a plain <c>&lt;img&gt;</c> and an exception.
/// </summary>
internal static class KoalaPicRenderer
{
    public static PictureMarkup Render(IServiceProvider? services, string? src, string? pathBase, IEnumerable<MarkupAttribute> attributes)
    {
        KoalaImageManifest manifest = Manifest(services);
        if (manifest.TryGetImage(src, out KoalaManifestImage image))
        {
            return PictureMarkupBuilder.Build(image, pathBase, attributes);
        }

        if (ShouldThrow(services))
        {
            throw new InvalidOperationException(manifest.DescribeMissing(src));
        }

        return PictureMarkupBuilder.BuildPlain(src ?? "", pathBase, attributes);
    }

    /// <summary>
    /// <see cref="Render(IServiceProvider?, string?, string?, IEnumerable{MarkupAttribute})"/> with the art-directed
    /// sources ahead, in the order written. An art-directed src without manifest entry is reported exactly like a
    /// missing default (the exception, or its original file as the source); one without media or src throws when
    /// missing entries do, and is left out otherwise.
    /// </summary>
    public static PictureMarkup Render(IServiceProvider? services, string? src, string? pathBase, IEnumerable<MarkupAttribute> attributes, IReadOnlyList<ArtDirectedSource> artDirected)
    {
        List<MarkupAttribute> attributeList = attributes.ToList();
        PictureMarkup markup = Render(services, src, pathBase, attributeList);
        if (artDirected.Count == 0)
        {
            return markup;
        }

        KoalaImageManifest manifest = Manifest(services);
        string? parentSizes = attributeList.FirstOrDefault(a => string.Equals(a.Name, "sizes", StringComparison.OrdinalIgnoreCase)).Value;
        var mediaSources = new List<PictureSource>();
        foreach (ArtDirectedSource source in artDirected)
        {
            if (string.IsNullOrWhiteSpace(source.Media) || string.IsNullOrWhiteSpace(source.Src))
            {
                if (ShouldThrow(services))
                {
                    throw new InvalidOperationException(
                        $"KoalaPic: an art-directed source of src \"{src}\" needs both media and src (<koala-source media=\"(max-width: 600px)\" src=\"img/hero-portrait.jpg\" />, "
                        + $"<KoalaSource Media=\"(max-width: 600px)\" Src=\"img/hero-portrait.jpg\" />); it has media \"{source.Media}\" and src \"{source.Src}\".");
                }

                continue;
            }

            string? sizes = source.Sizes ?? parentSizes;
            if (manifest.TryGetImage(source.Src, out KoalaManifestImage image))
            {
                mediaSources.AddRange(PictureMarkupBuilder.BuildMediaSources(source.Media, image, pathBase, sizes));
            }
            else if (ShouldThrow(services))
            {
                throw new InvalidOperationException(manifest.DescribeMissing(source.Src));
            }
            else
            {
                mediaSources.Add(PictureMarkupBuilder.BuildPlainMediaSource(source.Media, source.Src, pathBase, sizes));
            }
        }

        return PictureMarkupBuilder.WithMediaSources(markup, mediaSources);
    }

    /// <summary>The registered manifest; without AddKoalaPic(), the shared one for the app's web host environment (bin/ plus the web root's served manifests), else the process-wide bin/ one.</summary>
    private static KoalaImageManifest Manifest(IServiceProvider? services)
    {
        if (services?.GetService<KoalaImageManifest>() is KoalaImageManifest registered)
        {
            return registered;
        }

        return services?.GetService<IWebHostEnvironment>() is IWebHostEnvironment environment
            ? KoalaImageManifest.ForEnvironment(environment)
            : KoalaImageManifest.Shared;
    }

    private static bool ShouldThrow(IServiceProvider? services)
    {
        KoalaPicOptions? options = services?.GetService<IOptions<KoalaPicOptions>>()?.Value;
        if (options?.ThrowOnMissing is bool configured)
        {
            return configured;
        }

        IHostEnvironment? environment = (IHostEnvironment?)services?.GetService<IWebHostEnvironment>() ?? services?.GetService<IHostEnvironment>();
        return environment != null && environment.IsDevelopment();
    }
}
