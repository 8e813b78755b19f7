namespace KoalaPic.AspNetCore;

/// <summary>
/// A different source image for a media query, as written in <c>&lt;koala-source media="(max-width: 600px)"
/// src="img/hero-portrait.jpg" /&gt;</c> or <c>&lt;KoalaSource Media="…" Src="…" /&gt;</c>: it becomes its own
/// <c>&lt;source media="…"&gt;</c> set per format, ahead of the default image's sources
/// (<see cref="PictureMarkupBuilder.BuildMediaSources"/>).
/// </summary>
/// <param name="Media">The media query: <c>(max-width: 600px)</c>.</param>
/// <param name="Src">The source image, app-relative like the parent's <c>src</c>.</param>
/// <param name="Sizes">The sizes of its sources; null for the parent's.</param>
public sealed record ArtDirectedSource(string? Media, string? Src, string? Sizes = null);
