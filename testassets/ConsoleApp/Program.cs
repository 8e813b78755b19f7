Console.WriteLine(string.Join(Environment.NewLine, Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "img"))));
