#!/usr/bin/env python3
"""Run PyTorch's batch norm over a suite exported by `bnverify export`, writing each case's outputs
beside its inputs for `bnverify check`.

    bnverify export --suite quick suite/
    python3 examples/pytorch/run_suite.py suite/
    bnverify check suite/ --kernel pytorch

What each pass calls (PyTorch's CPU kernels, float32, on the exported tensors as they are):
  forward_training    torch.ops.aten.native_batch_norm(training=True): y, the saved mean and invstd,
                      and (PyTorch convention) the running statistics updated in place. batch_var is
                      torch.var_mean(unbiased=False) over the same elements. PyTorch has no Keras or
                      ONNX momentum rule: for those conventions the running statistics are updated here,
                      in float32 as tf.keras does, run = momentum * run + (1 - momentum) * batch with both
                      weights rounded from the double momentum, and the biased variance.
  forward_inference   torch.nn.functional.batch_norm(training=False).
  backward_training   autograd through F.batch_norm(training=True) when the export has saved_statistics
                      "own" (bnverify export --own-statistics): PyTorch's forward saves its own statistics,
                      as in training; with "given", torch.ops.aten.native_batch_norm_backward (the function
                      autograd calls) on the exported saved_mean and saved_invstd.
  backward_inference  autograd through F.batch_norm(training=False).
Reduced precision (bnverify export --precision bf16 or fp16): x, dy and forward_y become torch.bfloat16 or
torch.float16 tensors (the exported float32 values are values of that format, so exactly); gamma, beta and the
statistics stay float32, as PyTorch's mixed-precision batch norm takes them; y and dx come back as float32
(exactly). Fused ReLU (bnverify export --activation relu): the forward passes return torch.relu(y), and the
backward passes gate dy with torch.ops.aten.threshold_backward(dy, forward_y, 0), ReLU's backward from its
output, before the batch norm's backward: PyTorch's unfused batch norm followed by ReLU.
Channels-last cases run as PyTorch's channels_last memory format ((N, S, C) viewed as (N, C, S, 1)),
so its channels-last kernels are the ones verified. Absent gamma or beta: weight or bias None (the
gradients still come back, from ones and zeros). A case PyTorch refuses writes no outputs, and check
reports them missing, with the error printed here.

The numerical contract of PyTorch 1.13's CPU kernels is written to contract.txt beside manifest.json, where
bnverify check reads it: float sums in any order (its channels-last statistics add each channel's rows in
sequence per thread; channels-first ones in 8 vector lanes), two-pass statistics, y folded as x * a + b' with
an FMA. On the suites it also meets float-lanes:8 sums (docs/tolerances.md, "Contracts"), but a channels-last
channel of many rows would not: the declared contract is the one its algorithm guarantees.

Needs python3-torch and numpy (Debian: apt-get install python3-torch).
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as missing:
    # One line, as bnverify's own errors: which module, and how to get it.
    sys.exit(f"run_suite.py needs numpy and PyTorch ({missing.name} is missing for {sys.executable}): "
             "apt-get install python3-torch (Debian; it brings numpy), or pip install torch numpy, "
             "or run it with the python that has them (e.g. /usr/bin/python3).")

# How PyTorch 1.13's CPU batch norm computes, as bnverify's contract syntax (SUMS/STATISTICS/APPLY).
CONTRACT = "float-sequential/two-pass/folded-fma"


def load(folder, files, name):
    return torch.from_numpy(np.load(os.path.join(folder, files[name]))) if name in files else None


def channels_first(t, case):
    """The exported x layout as a PyTorch (N, C, ...) tensor: channels-last becomes channels_last memory format."""
    n, c, s = case["n"], case["c"], case["s"]
    if case["layout"] == "nhwc" and s > 1:
        return t.reshape(n, s, 1, c).permute(0, 3, 1, 2)   # (N, C, S, 1), strides of channels_last
    return t.reshape(n, c, s) if s > 1 else t.reshape(n, c)


def exported_layout(t, case):
    """A PyTorch (N, C, ...) result back in the exported layout, C-contiguous."""
    n, c, s = case["n"], case["c"], case["s"]
    if case["layout"] == "nhwc" and s > 1:
        t = t.permute(0, 2, 3, 1).reshape(n, s, c)
    return np.ascontiguousarray(t.detach().float().numpy())


def activate(y, case):
    """torch.relu after the batch norm when the suite fuses ReLU."""
    return torch.relu(y) if case["activation"] == "relu" else y


def reduce_dims(x):
    return [0] + list(range(2, x.dim()))


def forward_training(case, t):
    x, gamma, beta = channels_first(t["x"], case), t.get("gamma"), t.get("beta")
    rm, rv = t.get("running_mean"), t.get("running_var")
    pytorch_rule = case["convention"] == "pytorch"
    running = rm is not None and pytorch_rule
    rm_t = rm.clone() if running else None
    rv_t = rv.clone() if running else None
    y, mean, invstd = torch.ops.aten.native_batch_norm(x, gamma, beta, rm_t, rv_t, True, case["momentum"], case["eps"])
    y = activate(y, case)
    var, _ = torch.var_mean(x.float(), dim=reduce_dims(x), unbiased=False)   # float32 from the exact widening, whatever the data type
    out = {"y": exported_layout(y, case), "batch_mean": mean, "batch_var": var, "batch_invstd": invstd}
    if rm is not None:
        if not pytorch_rule:
            # As tf.keras does: both weights from the double momentum, each rounded to float32 once
            # (1 - float32(m) would cancel: 16 ULP of the batch weight at m = 0.99).
            keep, take = np.float32(case["momentum"]), np.float32(1.0 - case["momentum"])
            rm_t = torch.from_numpy(keep * rm.numpy() + take * mean.numpy())
            rv_t = torch.from_numpy(keep * rv.numpy() + take * var.numpy())
        out["running_mean_out"], out["running_var_out"] = rm_t, rv_t
    return out


def forward_inference(case, t):
    x = channels_first(t["x"], case)
    y = F.batch_norm(x, t["running_mean"], t["running_var"], t.get("gamma"), t.get("beta"), False, case["momentum"], case["eps"])
    return {"y": exported_layout(activate(y, case), case)}


def parameters(case, t):
    c = case["c"]
    gamma = t.get("gamma", torch.ones(c)).clone().requires_grad_()
    return gamma, torch.zeros(c, requires_grad=True)


def backward_training(case, t, own_statistics):
    x, dy = channels_first(t["x"], case), channels_first(t["dy"], case)
    if own_statistics:
        x = x.detach().requires_grad_()
        gamma, beta = parameters(case, t)
        F.batch_norm(x, None, None, gamma, beta, True, 0.0, case["eps"]).backward(dy)
        dx, dgamma, dbeta = x.grad, gamma.grad, beta.grad
    else:
        dx, dgamma, dbeta = torch.ops.aten.native_batch_norm_backward(
            dy, x, t.get("gamma"), None, None, t["saved_mean"], t["saved_invstd"], True, case["eps"], [True, True, True])
    return {"dx": exported_layout(dx, case), "dgamma": dgamma, "dbeta": dbeta}


def backward_inference(case, t):
    x, dy = channels_first(t["x"], case).detach().requires_grad_(), channels_first(t["dy"], case)
    gamma, beta = parameters(case, t)
    F.batch_norm(x, t["running_mean"], t["running_var"], gamma, beta, False, 0.0, case["eps"]).backward(dy)
    return {"dx": exported_layout(x.grad, case), "dgamma": gamma.grad, "dbeta": beta.grad}


DATA_TYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def run_case(root, case, own_statistics):
    folder = os.path.join(root, case["directory"])
    t = {name: load(folder, case["inputs"], name) for name in case["inputs"]}
    for name in ("x", "dy", "forward_y"):
        if name in t:
            t[name] = t[name].to(DATA_TYPES[case["precision"]])
    relu = case["activation"] == "relu"
    if relu and "forward_y" in t:
        t["dy"] = torch.ops.aten.threshold_backward(t["dy"], t["forward_y"], 0)
    pass_ = case["pass"]
    if pass_ == "forward_training":
        out = forward_training(case, t)
    elif pass_ == "forward_inference":
        out = forward_inference(case, t)
    elif pass_ == "backward_training":
        out = backward_training(case, t, own_statistics)
    elif pass_ == "backward_inference":
        out = backward_inference(case, t)
    else:
        raise ValueError(f"unknown pass {pass_}")
    for name, file in case["outputs"].items():
        value = out[name]
        array = value if isinstance(value, np.ndarray) else value.detach().numpy()
        np.save(os.path.join(folder, file), np.ascontiguousarray(array.astype(np.float32, copy=False)))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: run_suite.py EXPORTED_SUITE_DIR")
    root = sys.argv[1]
    with open(os.path.join(root, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest["format"] != "bnverify-suite/1":
        sys.exit(f"{root}: format {manifest['format']} is not bnverify-suite/1")
    torch.manual_seed(0)
    own = manifest["saved_statistics"] == "own"
    refused = 0
    for case in manifest["cases"]:
        try:
            run_case(root, case, own)
        except (RuntimeError, ValueError) as e:   # PyTorch refused the case: no outputs, check reports them missing
            refused += 1
            print(f"{case['name']}: PyTorch refused it: {str(e).splitlines()[0]}", file=sys.stderr)
    with open(os.path.join(root, "contract.txt"), "w", encoding="utf-8") as f:
        f.write(CONTRACT + "\n")
    print(f"PyTorch {torch.__version__} ran {len(manifest['cases']) - refused} of {len(manifest['cases'])} cases in {root} (contract {CONTRACT})")


if __name__ == "__main__":
    main()
