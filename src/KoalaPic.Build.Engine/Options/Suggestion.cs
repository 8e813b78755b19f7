using System;
using System.Collections.Generic;

namespace KoalaPic.Build.Engine;

/// <summary>
/// "Did you mean 'webp'?" for a mistyped value of an enumerated metadata or property: the closest valid name by
/// Damerau–Levenshtein distance (optimal string alignment: insertions, deletions, substitutions and swaps of two
/// neighbours each cost 1), ignoring case. Only a close name is suggested, so that a value that is simply something
/// else ("stretch" for Fit) gets no misleading guess.
/// </summary>
public static class Suggestion
{
    /// <summary>The closest of <paramref name="choices"/>, or null when none is close: at most 1 edit for values of up to 4 characters, 2 for longer ones. The first choice wins a tie.</summary>
    public static string? Closest(string value, IEnumerable<string> choices)
    {
        string typed = value.Trim().ToLowerInvariant();
        int allowed = typed.Length <= 4 ? 1 : 2;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string choice in choices)
        {
            int distance = Distance(typed, choice.ToLowerInvariant());
            if (distance > 0 && distance <= allowed && distance < bestDistance)
            {
                best = choice;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary><c> Did you mean 'webp'?</c> (with its leading space) to end a message, or empty when nothing is close.</summary>
    public static string DidYouMean(string value, IEnumerable<string> choices) =>
        Closest(value, choices) is string match ? " Did you mean '" + match + "'?" : "";

    /// <summary>Optimal string alignment distance.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
