#if NETFRAMEWORK
namespace System.Runtime.CompilerServices
{
    // Records and init-only setters need this type, which .NET Framework does not ship.
    internal static class IsExternalInit { }
}
#endif
