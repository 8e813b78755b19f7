// Lists the images KoalaPic.Build converted into this app's output folder.
string root = AppContext.BaseDirectory;
string[] converted = { ".webp", ".avif", ".jpg", ".png", ".ico", ".pdf", ".gif", ".tiff", ".bmp", ".heic", ".svg" };
foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
             .Where(f => converted.Contains(Path.GetExtension(f)))
             .Order())
{
    Console.WriteLine($"{Path.GetRelativePath(root, file),-36} {new FileInfo(file).Length,9:N0} bytes");
}
