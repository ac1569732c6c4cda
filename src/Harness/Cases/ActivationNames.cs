namespace BatchNorm.Harness.Cases;

/// <summary>The short activation names case names, manifests and the CLI use.</summary>
internal static class ActivationNames
{
    /// <summary>"none" or "relu".</summary>
    public static string Short(this Activation activation) => activation switch
    {
        Activation.None => "none",
        Activation.Relu => "relu",
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "not an activation"),
    };

    /// <summary>The flag a command line that reruns a case of this activation needs: "" for None, else " --activation relu".</summary>
    public static string Flag(this Activation activation) => activation == Activation.None ? "" : $" --activation {activation.Short()}";
}
