using System;
using System.Collections.Generic;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>A platform preset (<c>OptimizeFor</c>): size, fit and default format; explicit item metadata wins over each.</summary>
/// <param name="Enlarge">Presets with an exact size that a platform requires enlarge small images to reach it.</param>
public sealed record Preset(string Name, int Width, int? Height, FitMode Fit, ImageFormat Format, bool Enlarge, IReadOnlyList<int>? IcoSizes = null);

/// <summary>The 20 presets of the KoalaPic API.</summary>
public static class Presets
{
    public static IReadOnlyList<Preset> All { get; } = new[]
    {
        Exact("instagram-square", 1080, 1080),
        Exact("instagram-portrait", 1080, 1350),
        Exact("instagram-story", 1080, 1920),
        Exact("facebook-post", 1200, 630),
        Exact("facebook-cover", 851, 315),
        Exact("x-post", 1600, 900),
        Exact("x-header", 1500, 500),
        Exact("linkedin-post", 1200, 627),
        Exact("linkedin-banner", 1584, 396),
        Exact("pinterest-pin", 1000, 1500),
        Exact("youtube-thumbnail", 1280, 720),
        Exact("youtube-banner", 2560, 1440),
        Exact("tiktok-cover", 1080, 1920),
        Exact("open-graph", 1200, 630),
        new Preset("email", 600, null, FitMode.Inside, ImageFormat.Jpeg, Enlarge: false),
        new Preset("web-hero", 1920, null, FitMode.Inside, ImageFormat.Webp, Enlarge: false),
        Exact("web-thumbnail", 400, 400, ImageFormat.Webp),
        new Preset("favicon", 48, 48, FitMode.Cover, ImageFormat.Ico, Enlarge: true, IcoSizes: new[] { 16, 32, 48 }),
        Exact("apple-touch-icon", 180, 180, ImageFormat.Png),
        Exact("pwa-icon", 512, 512, ImageFormat.Png),
    };

    /// <summary>The values <c>OptimizeFor</c> accepts, as shown in diagnostics.</summary>
    public static string AcceptedValues { get; } = string.Join(", ", All.Select(p => p.Name));

    public static bool TryGet(string name, out Preset preset)
    {
        preset = All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))!;
        return preset != null;
    }

    private static Preset Exact(string name, int width, int height, ImageFormat format = ImageFormat.Jpeg) =>
        new(name, width, height, FitMode.Cover, format, Enlarge: true);
}
