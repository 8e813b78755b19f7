using System;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace KoalaPic.AspNetCore;

/// <summary>Registration of KoalaPic's run-time services.</summary>
public static class KoalaPicServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="KoalaImageManifest"/> as a singleton (reading bin/…/koalapic/ and, when the services hold an
    /// <see cref="IWebHostEnvironment"/>, the manifests served under its web root's <c>_content/</c>) and
    /// <see cref="KoalaPicOptions"/>. Optional: without
    /// it, <c>&lt;koala-img&gt;</c> and <c>&lt;KoalaImg&gt;</c> use <see cref="KoalaImageManifest.Shared"/> with default
    /// options. Call it to change the options:
    /// <code>builder.Services.AddKoalaPic(o =&gt; o.ThrowOnMissing = false);</code>
    /// </summary>
    public static IServiceCollection AddKoalaPic(this IServiceCollection services, Action<KoalaPicOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KoalaPicOptions>();
        if (configure != null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(sp =>
        {
            IWebHostEnvironment? environment = sp.GetService<IWebHostEnvironment>();
            return new KoalaImageManifest(sp.GetRequiredService<IOptions<KoalaPicOptions>>().Value, () => environment?.WebRootFileProvider);
        });
        return services;
    }
}
