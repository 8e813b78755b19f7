var app = WebApplication.CreateBuilder(args).Build();
app.UseStaticFiles();
app.MapGet("/", () => "KoalaPic WebApp");
app.Run();
