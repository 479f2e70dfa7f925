using Npgsql;

public class DatabaseProbe
{
    private readonly string _connectionString;

    public DatabaseProbe(IConfiguration configuration)
    {
        _connectionString = configuration.GetConnectionString("Orders")!;
    }

    public async Task<bool> CanConnectAsync(CancellationToken token)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(token);
        return true;
    }
}
