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
  quit
PASS is fwd_train (F.batch_norm, training, running statistics updated), fwd_infer (inference) or
backward (autograd.grad of a training forward: only the backward call is timed). The first line this
prints is "pytorch-VERSION".
"""
import sys
import time

import torch
import torch.nn.functional as F


def build(n, c, s, layout, pass_, activation="none"):
    shape = (n, c, s, 1) if s > 1 else (n, c)
    x = torch.randn(*shape)
    if layout == "nhwc" and s > 1:
        x = x.contiguous(memory_format=torch.channels_last)
    g, b, rm, rv = torch.rand(c), torch.randn(c), torch.zeros(c), torch.ones(c)
    # In place, as torchvision's ResNets apply it (nn.ReLU(inplace=True)): no second output tensor.
    act = (lambda t: F.relu(t, inplace=True)) if activation == "relu" else (lambda t: t)
    if pass_ == "fwd_train":
        return lambda: act(F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5)), None
    if pass_ == "fwd_infer":
        return lambda: act(F.batch_norm(x, rm, rv, g, b, training=False, eps=1e-5)), None
    xr, gr, br = x.clone().requires_grad_(True), g.clone().requires_grad_(True), b.clone().requires_grad_(True)
    dy = torch.randn_like(x)

    def setup():
        return act(F.batch_norm(xr, None, None, gr, br, training=True, momentum=0.1, eps=1e-5))

    return (lambda y: torch.autograd.grad(y, (xr, gr, br), dy)), setup


def once(run, setup):
    arg = setup() if setup else None
    start = time.perf_counter()
    run(arg) if setup else run()
    return time.perf_counter() - start


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    print("pytorch-" + torch.__version__, flush=True)
    run = setup = None
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "cell":
            n, c, s = int(words[1]), int(words[2]), int(words[3])
            activation = words[6] if len(words) > 6 else "none"
            run, setup = build(n, c, s, words[4], words[5], activation)
            begin, calls = time.perf_counter(), 0
            while calls < 50 or time.perf_counter() - begin < 0.5:
                once(run, setup)
                calls += 1
            print("ready " + activation, flush=True)
        elif words[0] == "run":
            print(repr(once(run, setup)), flush=True)
        else:
            print("error unknown command " + words[0], flush=True)


if __name__ == "__main__":
    main()
