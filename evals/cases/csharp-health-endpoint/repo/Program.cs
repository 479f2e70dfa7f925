var builder = WebApplication.CreateBuilder(args);
builder.Services.AddControllers();
builder.Services.AddSingleton<DatabaseProbe>();

var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok());
app.MapControllers();
app.Run();
