#!/usr/bin/env python3
"""Regenerates tests/Fixtures/PyTorch: PyTorch's float32 CPU batch norm on small cases.

    apt-get install python3-torch        # Debian's PyTorch 1.13, CPU only, with NumPy
    /usr/bin/python3 tools/pytorch-fixtures/make_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/Fixtures/PyTorch; a test regenerates into a temporary folder and
checks that the committed files are what PyTorch gives (one thread, so bit for bit).

Each fixture is a folder of .npy files and a fixture.json naming the call (pass, mode, layout,
eps, momentum) and which file is which input and output, with the names `bnverify compare`
uses. Channels-last tensors are saved as (N, H, W, C), the layout compare's --layout nhwc reads.
Backward fixtures hold PyTorch's own saved statistics (native_batch_norm's save_mean and
save_invstd); a test checks them both with and without those files.
"""
import json
import os
import sys

import numpy as np
import torch

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures", "PyTorch")
EPS, MOMENTUM = 1e-5, 0.1


def draw(kind, shape, offset, spread, gen):
    if kind == "normal":
        base = torch.randn(shape, generator=gen, dtype=torch.float64)
    elif kind == "uniform":
        base = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1
    elif kind == "laplace":
        u = torch.rand(shape, generator=gen, dtype=torch.float64) - 0.5
        base = -torch.sign(u) * torch.log1p(-2 * u.abs())
    else:
        raise ValueError(kind)
    return (offset + spread * base).float()


def to_file_layout(t, layout):
    """(N, C, ...) tensor to the array compare reads: channels-last moves C to the end."""
    if layout == "nhwc" and t.dim() > 2:
        return t.permute(0, *range(2, t.dim()), 1).contiguous().numpy()
    return t.contiguous().numpy()


def save(folder, name, array):
    np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(array, dtype=np.float32))
    return name + ".npy"


def fixture(name, shape, layout, kind, offset, spread, mode, passes, seed):
    gen = torch.Generator().manual_seed(seed)
    c = shape[1]
    x = draw(kind, shape, offset, spread, gen)
    if layout == "nhwc" and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    gamma = (0.5 + torch.rand(c, generator=gen, dtype=torch.float64)).float()
    beta = (torch.rand(c, generator=gen, dtype=torch.float64) * 2 - 1).float()
    running_mean = (offset + 0.1 * spread * torch.randn(c, generator=gen, dtype=torch.float64)).float()
    running_var = ((spread ** 2) * (0.5 + torch.rand(c, generator=gen, dtype=torch.float64))).float()
    dy = torch.randn(shape, generator=gen, dtype=torch.float64).float()
    if layout == "nhwc" and dy.dim() == 4:
        dy = dy.contiguous(memory_format=torch.channels_last)
    training = mode == "training"
    made = []
    for pass_ in passes:
        folder = os.path.join(ROOT, f"{name}-{pass_}")
        os.makedirs(folder, exist_ok=True)
        inputs = {"x": save(folder, "x", to_file_layout(x, layout)), "gamma": save(folder, "gamma", gamma.numpy()),
                  "beta": save(folder, "beta", beta.numpy()), "runningMean": save(folder, "running_mean", running_mean.numpy()),
                  "runningVariance": save(folder, "running_var", running_var.numpy())}
        rm, rv = running_mean.clone(), running_var.clone()
        y, save_mean, save_invstd = torch.ops.aten.native_batch_norm(x, gamma, beta, rm, rv, training, MOMENTUM, EPS)
        if pass_ == "forward":
            outputs = {"y": save(folder, "y", to_file_layout(y, layout))}
            if training:
                outputs.update({"batchMean": save(folder, "save_mean", save_mean.numpy()),
                                "batchInvStd": save(folder, "save_invstd", save_invstd.numpy()),
                                "runningMean": save(folder, "running_mean_out", rm.numpy()),
                                "runningVariance": save(folder, "running_var_out", rv.numpy())})
        else:
            inputs["dy"] = save(folder, "dy", to_file_layout(dy, layout))
            if training:
                inputs["savedMean"] = save(folder, "save_mean", save_mean.numpy())
                inputs["savedInvStd"] = save(folder, "save_invstd", save_invstd.numpy())
            dx, dgamma, dbeta = torch.ops.aten.native_batch_norm_backward(
                dy, x, gamma, running_mean, running_var, save_mean, save_invstd, training, EPS, [True, True, True])
            outputs = {"dx": save(folder, "dx", to_file_layout(dx, layout)), "dgamma": save(folder, "dgamma", dgamma.numpy()),
                       "dbeta": save(folder, "dbeta", dbeta.numpy())}
        manifest = {"source": f"torch {torch.__version__} float32 CPU, torch.ops.aten.native_batch_norm" + ("_backward" if pass_ == "backward" else ""),
                    "pass": pass_, "mode": mode, "layout": layout, "eps": EPS, "momentum": MOMENTUM,
                    "data": f"{kind}, offset {offset!r}, spread {spread!r}, seed {seed}", "inputs": inputs, "outputs": outputs}
        with open(os.path.join(folder, "fixture.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        made.append(folder)
    return made


def main():
    torch.set_num_threads(1)
    both = ["forward", "backward"]
    made = []
    made += fixture("normal-nchw-train", (8, 6, 7, 7), "nchw", "normal", 0.0, 1.0, "training", both, 1)
    made += fixture("uniform-nhwc-train", (6, 5, 5, 7), "nhwc", "uniform", 3.0, 1.0, "training", both, 2)
    made += fixture("normal-nchw-infer", (8, 6, 7, 7), "nchw", "normal", 0.0, 1.0, "inference", both, 3)
    made += fixture("uniform-nchw-infer", (8, 6, 7, 7), "nchw", "uniform", 5.0, 1.0, "inference", ["forward"], 4)
    made += fixture("laplace-nhwc-infer", (6, 5, 5, 7), "nhwc", "laplace", 1.0, 1.0, "inference", ["forward"], 5)
    made += fixture("uniform-nhwc-infer", (6, 5, 5, 7), "nhwc", "uniform", 5.0, 1.0, "inference", ["forward"], 6)
    made += fixture("dense-train", (1000, 20), "nchw", "normal", 0.0, 1.0, "training", ["backward"], 7)
    made += fixture("mean-1e3-nchw-train", (8, 4, 6, 6), "nchw", "normal", 10.0, 1e-2, "training", both, 8)
    made += fixture("mean-1e4-nhwc-train", (8, 6, 6, 4), "nhwc", "normal", 1e4, 1.0, "training", both, 9)
    made += fixture("mean-1e6-nhwc-train", (8, 6, 6, 4), "nhwc", "normal", 1e4, 1e-2, "training", both, 10)
    made += fixture("mean-1e4-nchw-infer", (8, 4, 6, 6), "nchw", "normal", 1e4, 1.0, "inference", ["forward"], 11)
    print(f"{len(made)} fixtures in {os.path.normpath(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
