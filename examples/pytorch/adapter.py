#!/usr/bin/env python3
"""PyTorch's batch norm behind bnverify's adapter protocol (docs/adapter-protocol.md): one process answers every
case of a `bnverify hunt --adapter` or `bnverify verify --adapter` run on its standard input and output.

    bnverify hunt --adapter "python3 examples/pytorch/adapter.py" --budget 10m
    bnverify verify --adapter "python3 examples/pytorch/adapter.py"

Each request is computed exactly as run_suite.py computes an exported case (the same functions: PyTorch 1.13's CPU
kernels in float32, channels-last as channels_last memory format, the Keras and ONNX running updates in float32), so
a finding here replays through export and check. A case PyTorch refuses is answered {"error": ...}.

Needs python3-torch and numpy (Debian: apt-get install python3-torch).
"""
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_suite  # noqa: E402  (exits with one line naming what to install when numpy or torch is missing)

np, torch = run_suite.np, run_suite.torch
PROTOCOL = "bnverify-adapter/1"


def write(out, header, tensors=()):
    """One message: a JSON line listing the payloads, then each payload (a whole .npy file)."""
    payloads = []
    for name, array in tensors:
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array.astype(np.float32, copy=False)))
        payloads.append((name, buffer.getvalue()))
    header = dict(header, tensors=[{"name": name, "bytes": len(data)} for name, data in payloads])
    out.write(json.dumps(header).encode("utf-8") + b"\n")
    for _, data in payloads:
        out.write(data)
    out.flush()


def read(inp):
    """One message, or None at the end of the input (bnverify closes it when the run ends)."""
    line = inp.readline()
    if not line:
        return None
    header = json.loads(line)
    tensors = {}
    for entry in header.pop("tensors", []):
        data = inp.read(entry["bytes"])
        if len(data) != entry["bytes"]:
            raise EOFError(f"input ended inside tensor {entry['name']}")
        tensors[entry["name"]] = torch.from_numpy(np.load(io.BytesIO(data)))
    return header, tensors


PASSES = {
    "forward_training": run_suite.forward_training,
    "forward_inference": run_suite.forward_inference,
    "backward_training": lambda case, t: run_suite.backward_training(case, t, own_statistics=False),
    "backward_inference": run_suite.backward_inference,
}


def answer(header, t):
    case = header["case"]
    for name in ("x", "dy", "forward_y"):
        if name in t:
            t[name] = t[name].to(run_suite.DATA_TYPES[case["precision"]])
    if case["activation"] == "relu" and "forward_y" in t:
        t["dy"] = torch.ops.aten.threshold_backward(t["dy"], t["forward_y"], 0)
    out = PASSES[header["pass"]](case, t)
    return [(name, value if isinstance(value, np.ndarray) else value.detach().numpy()) for name, value in out.items()]


def main():
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    torch.manual_seed(0)
    write(out, {"protocol": PROTOCOL, "name": "pytorch", "contract": run_suite.CONTRACT, "activations": ["none", "relu"], "precision": "fp32",
                "version": torch.__version__})
    while (message := read(inp)) is not None:
        header, tensors = message
        try:
            results = answer(header, tensors)
        except (RuntimeError, ValueError) as e:   # PyTorch refused the case
            write(out, {"error": str(e).splitlines()[0]})
            continue
        write(out, {}, results)


if __name__ == "__main__":
    main()
