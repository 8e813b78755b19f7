using KoalaPic.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddRazorPages();
// Optional: <koala-img> works without it; AddKoalaPic() makes the manifest a singleton you can also inject yourself.
builder.Services.AddKoalaPic();

var app = builder.Build();
if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error");
}

app.MapStaticAssets();
app.MapRazorPages().WithStaticAssets();
app.Run();
