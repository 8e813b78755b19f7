using System;
using System.Collections.Generic;
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
