Console.WriteLine("Hostile images test project");
