using System;
using System.Collections.Generic;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>Owns the intermediate images of one conversion: each holds native memory until disposed.</summary>
internal sealed class ImageScope : IDisposable
{
    private readonly List<Image> images = new();
    private readonly HashSet<Image> seen = new(ReferenceEqualityComparer.Instance);

    public Image Add(Image image)
    {
        if (seen.Add(image))
        {
            images.Add(image);
        }

        return image;
    }

    public void Dispose()
    {
        for (int i = images.Count - 1; i >= 0; i--)
        {
            images[i].Dispose();
        }
    }

    private sealed class ReferenceEqualityComparer : IEqualityComparer<Image>
    {
        public static readonly ReferenceEqualityComparer Instance = new();

        public bool Equals(Image? x, Image? y) => ReferenceEquals(x, y);

        public int GetHashCode(Image obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }
}
