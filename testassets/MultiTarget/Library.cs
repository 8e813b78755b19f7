namespace MultiTarget;

public static class Library
{
    public const string Name = "MultiTarget";
}
