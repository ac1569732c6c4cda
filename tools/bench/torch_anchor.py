#!/usr/bin/env python3
"""PyTorch's CPU batch norm as a bench anchor that bnverify times round by round with its own kernel.

bnverify starts this once (`python3 torch_anchor.py THREADS`) and talks over stdin/stdout, one line each:
  cell N C S LAYOUT PASS [ACTIVATION]
                           -> builds the tensors (float32; LAYOUT nchw or nhwc: PyTorch's channels_last
                              memory format for S > 1), warms the pass up for 500 ms, answers
                              "ready ACTIVATION" (so the caller knows which it built);
                              ACTIVATION relu puts F.relu(inplace=True) after the batch norm (PyTorch runs
                              the pair unfused; backward differentiates through both), none (the default)
                              does not
  run                      -> runs the pass once and answers its wall time in seconds (time.perf_counter)
  check DIR                -> runs the pass once more on the same tensors and writes its inputs and outputs into DIR
                              as .npy files (float32, x-shaped tensors (N, C, S) channels-first or (N, S, C)
                              channels-last, per-channel ones (C,); the names bnverify export uses), so bnverify
                              verifies the very computation it times; answers "checked"
  quit
PASS is fwd_train (F.batch_norm, training, running statistics updated), fwd_infer (inference) or
backward (autograd.grad of a training forward: only the backward call is timed). The first line this
prints is "pytorch-VERSION".
"""
import os
import sys
import time

import torch
import torch.nn.functional as F


def build(n, c, s, layout, pass_, activation="none"):
    """The timed call (and its set-up for backward), and a checker that runs it once more and names its tensors."""
    shape = (n, c, s, 1) if s > 1 else (n, c)
    x = torch.randn(*shape)
    if layout == "nhwc" and s > 1:
        x = x.contiguous(memory_format=torch.channels_last)
    g, b, rm, rv = torch.rand(c), torch.randn(c), torch.zeros(c), torch.ones(c)
    # In place, as torchvision's ResNets apply it (nn.ReLU(inplace=True)): no second output tensor.
    act = (lambda t: F.relu(t, inplace=True)) if activation == "relu" else (lambda t: t)
    if pass_ == "fwd_train":
        def check():
            before = {"running_mean": rm.clone(), "running_var": rv.clone()}
            y = act(F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5))
            return dict(before, x=x, gamma=g, beta=b, y=y, running_mean_out=rm, running_var_out=rv)
        return (lambda: act(F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5))), None, check
    if pass_ == "fwd_infer":
        def check():
            y = act(F.batch_norm(x, rm, rv, g, b, training=False, eps=1e-5))
            return {"x": x, "gamma": g, "beta": b, "running_mean": rm, "running_var": rv, "y": y}
        return (lambda: act(F.batch_norm(x, rm, rv, g, b, training=False, eps=1e-5))), None, check
    xr, gr, br = x.clone().requires_grad_(True), g.clone().requires_grad_(True), b.clone().requires_grad_(True)
    dy = torch.randn_like(x)

    def setup():
        return act(F.batch_norm(xr, None, None, gr, br, training=True, momentum=0.1, eps=1e-5))

    def check():
        y = setup()
        dx, dgamma, dbeta = torch.autograd.grad(y, (xr, gr, br), dy)
        named = {"x": xr, "gamma": gr, "beta": br, "dy": dy, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
        if activation == "relu":
            named["forward_y"] = y
        return named

    return (lambda y: torch.autograd.grad(y, (xr, gr, br), dy)), setup, check


def save(folder, named, layout):
    """Each tensor as bnverify export lays it out: x-shaped ones (N, C, S) or (N, S, C), per-channel ones (C,)."""
    import numpy as np
    for name, t in named.items():
        t = t.detach()
        if t.dim() == 4:
            n, c, s = t.shape[0], t.shape[1], t.shape[2]
            t = t.permute(0, 2, 3, 1).reshape(n, s, c) if layout == "nhwc" else t.reshape(n, c, s)
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(t.float().numpy()))


def once(run, setup):
    arg = setup() if setup else None
    start = time.perf_counter()
    run(arg) if setup else run()
    return time.perf_counter() - start


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    print("pytorch-" + torch.__version__, flush=True)
    run = setup = check = layout = None
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "cell":
            n, c, s = int(words[1]), int(words[2]), int(words[3])
            activation = words[6] if len(words) > 6 else "none"
            layout = words[4]
            run, setup, check = build(n, c, s, layout, words[5], activation)
            begin, calls = time.perf_counter(), 0
            while calls < 50 or time.perf_counter() - begin < 0.5:
                once(run, setup)
                calls += 1
            print("ready " + activation, flush=True)
        elif words[0] == "run":
            print(repr(once(run, setup)), flush=True)
        elif words[0] == "check":
            save(words[1], check(), layout)
            print("checked", flush=True)
        else:
            print("error unknown command " + words[0], flush=True)


if __name__ == "__main__":
    main()
