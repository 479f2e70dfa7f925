using Xunit;

public class HealthTests
{
    [Fact]
    public void LiveAnswersOk() => Assert.True(true);
}
