namespace BatchNorm.Harness.Cases;

/// <summary>The short layout names case names, manifests, bench rows and the CLI use.</summary>
internal static class LayoutNames
{
    /// <summary>"nchw" (channels-first) or "nhwc" (channels-last).</summary>
    public static string Short(this Layout layout) => layout switch
    {
        Layout.ChannelsFirst => "nchw",
        Layout.ChannelsLast => "nhwc",
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a layout"),
    };
}
