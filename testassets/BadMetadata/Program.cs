Console.WriteLine("BadMetadata");
