namespace KoalaPic.Build.Engine;

/// <summary>How the image fits Width × Height, with sharp's meanings.</summary>
public enum FitMode
{
    /// <summary>Keep the aspect ratio, as large as possible within both bounds (default).</summary>
    Inside,

    /// <summary>Keep the aspect ratio, as small as possible while covering both bounds.</summary>
    Outside,

    /// <summary>Fill exactly Width × Height, cropping what falls outside (see <see cref="CropPosition"/>).</summary>
    Cover,

    /// <summary>Fit inside Width × Height and pad to exactly that size with the background colour.</summary>
    Contain,

    /// <summary>Stretch to exactly Width × Height, ignoring the aspect ratio.</summary>
    Fill,
}

/// <summary>Which part of the image a cover crop keeps.</summary>
public enum CropPosition
{
    Center,

    /// <summary>libvips' attention strategy: the region most likely to draw the eye (skin, saturation, edges).</summary>
    Attention,

    /// <summary>libvips' entropy strategy: the busiest region.</summary>
    Entropy,
}
