#!/usr/bin/env python3
"""Times every cell of a bench sitting again alone and says whether each participant's time agrees.

    python3 tools/bench/alone_vs_sitting.py SITTING.jsonl [--runs 21] [--cells nhwc/64x256x14x14/backward ...]

SITTING.jsonl is what `bnverify bench --format jsonl` printed. For each cell (or only the ones named) this runs
`bnverify bench` on that cell alone (a process of its own, the same kernel, threads, runs and activation), then
prints a markdown table: each participant's median ms in the sitting and alone, with their 25th-75th percentiles,
and "agrees" when the two interquartile ranges overlap. A time that agrees does not depend on which cells ran
before it; one that does not is named at the end and the script exits 1.
Needs the Release build (dotnet build -c Release) and is run from the repository root.
"""
import argparse
import json
import os
import subprocess
import sys

BNVERIFY = os.path.join("src", "Cli", "bin", "Release", "net10.0", "bnverify.dll")


def participants(row):
    """(name, median, p25, p75) for ours and each anchor of a bench jsonl row."""
    yield row["kernel"], row["ms"], row["ms_p25"], row["ms_p75"]
    for a in row["anchors"]:
        yield a["anchor"], a["anchor_ms"], a["anchor_ms_p25"], a["anchor_ms_p75"]


def key(row):
    pass_ = row["pass"] if row["activation"] == "none" else row["activation"] + "/" + row["pass"]
    return f'{row["layout"]}/{row["shape"]}/{pass_}'


def alone(row, runs, threads):
    args = ["dotnet", BNVERIFY, "bench", "--kernel", row["kernel"], "--shape", row["shape"], "--layout", row["layout"],
            "--pass", row["pass"], "--runs", str(runs), "--format", "jsonl", "--activation", row["activation"]]
    if threads:
        args += ["--threads", str(threads)]
    for a in row["anchors"]:
        args += ["--anchor", "pytorch" if a["anchor"].startswith("pytorch-") else a["anchor"]]
    if not row["anchors"]:
        args += ["--anchor", "none"]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"bnverify bench exited {done.returncode} on {key(row)}: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sitting")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--cells", nargs="*", default=[])
    options = parser.parse_args()
    with open(options.sitting, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if options.cells:
        rows = [r for r in rows if key(r) in options.cells]
    print("| cell | participant | sitting ms (p25-p75) | alone ms (p25-p75) | |")
    print("|---|---|---|---|---|")
    disagreeing = []
    for row in rows:
        again = dict((p[0], p) for p in participants(alone(row, options.runs, options.threads)))
        for name, ms, low, high in participants(row):
            _, ms2, low2, high2 = again[name]
            agrees = low <= high2 and low2 <= high
            if not agrees:
                disagreeing.append(f"{key(row)} {name}")
            print(f"| {key(row)} | {name} | {ms:.3f} ({low:.3f}-{high:.3f}) | {ms2:.3f} ({low2:.3f}-{high2:.3f}) | "
                  f"{'agrees' if agrees else 'DIFFERS'} |", flush=True)
    print()
    print(f"{len(disagreeing)} of {sum(1 + len(r['anchors']) for r in rows)} times differ alone: " + ", ".join(disagreeing) if disagreeing
          else "every time agrees alone and in the sitting (overlapping interquartile ranges)")
    return 1 if disagreeing else 0


if __name__ == "__main__":
    sys.exit(main())
