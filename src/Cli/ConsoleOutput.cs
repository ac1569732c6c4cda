using Spectre.Console;

namespace BatchNorm.Cli;

/// <summary>The console every command writes to: a real terminal gets colour and progress; a pipe or CI log gets plain, wide text.</summary>
internal static class ConsoleOutput
{
    public static IAnsiConsole Create()
    {
        bool interactive = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!interactive)
            console.Profile.Width = 160;
        return console;
    }
}
