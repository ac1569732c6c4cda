namespace BatchNorm;

/// <summary>What a forward pass applies to the normalized, scaled and shifted value before it stores y.</summary>
public enum Activation
{
    /// <summary>Plain batch norm: y = gamma * xhat + beta.</summary>
    None,

    /// <summary>
    /// Fused ReLU (oneDNN's dnnl_fuse_norm_relu): y = max(gamma * xhat + beta, 0), a NaN staying
    /// NaN as torch.relu keeps it. The backward then takes the forward's y and passes dy except
    /// where y ≤ 0 (docs/semantics.md, "Fused ReLU").
    /// </summary>
    Relu,
}
