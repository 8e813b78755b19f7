namespace KoalaPic.Build.Engine;

/// <summary>Perceptual target of smart quality; <see cref="None"/> uses the fixed Quality.</summary>
public enum SmartQualityLevel
{
    None,
    Low,
    Medium,
    High,
}
