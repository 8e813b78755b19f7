// Lists the images KoalaPic.Build converted into this app's output folder.
string folder = Path.Combine(AppContext.BaseDirectory, "img");
foreach (string file in Directory.GetFiles(folder).Order())
{
    Console.WriteLine($"{Path.GetFileName(file),-32} {new FileInfo(file).Length,9:N0} bytes");
}
