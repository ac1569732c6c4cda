#!/usr/bin/env python3
"""Times every cell of a bench sitting again alone and says whether each participant's time agrees.

    python3 tools/bench/alone_vs_sitting.py SITTING.jsonl [--runs 21] [--cells nhwc/64x256x14x14/backward ...]

SITTING.jsonl is what `bnverify bench --format jsonl` printed. For each cell (or only the ones named) this runs
`bnverify bench` on that cell alone (a process of its own, the same kernel, threads, runs and activation), then
prints a markdown table: each participant's median ms in the sitting and alone, with their 25th-75th percentiles,
and for each anchor the ratio ours / anchor in both runs. An anchor "agrees" when its two interquartile ranges of
ms overlap; a shared machine also changes pace between two runs minutes apart, which moves every participant
alike, so an anchor whose ms moved but whose ratio's interquartile ranges overlap is "pace" (the machine, not the
context). An anchor that is neither depends on which cells ran before it: it is named at the end and the script
exits 1.
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
    print("| cell | participant | sitting ms (p25-p75) | alone ms (p25-p75) | ours / it, sitting | ours / it, alone | |")
    print("|---|---|---|---|---|---|---|")
    disagreeing = []
    for row in rows:
        again_row = alone(row, options.runs, options.threads)
        again = dict((p[0], p) for p in participants(again_row))
        ratios = {a["anchor"]: (a["ratio"], a["ratio_p25"], a["ratio_p75"]) for a in row["anchors"]}
        ratios_alone = {a["anchor"]: (a["ratio"], a["ratio_p25"], a["ratio_p75"]) for a in again_row["anchors"]}
        for name, ms, low, high in participants(row):
            _, ms2, low2, high2 = again[name]
            times_agree = low <= high2 and low2 <= high
            if name in ratios:
                r, r2 = ratios[name], ratios_alone[name]
                ratio_agree = r[1] <= r2[2] and r2[1] <= r[2]
                verdict = "agrees" if times_agree else "pace" if ratio_agree else "DIFFERS"
                if verdict == "DIFFERS":
                    disagreeing.append(f"{key(row)} {name}")
                shown = (f"{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f})", f"{r2[0]:.2f} ({r2[1]:.2f}-{r2[2]:.2f})")
            else:
                verdict = "agrees" if times_agree else "moved"
                shown = ("", "")
            print(f"| {key(row)} | {name} | {ms:.3f} ({low:.3f}-{high:.3f}) | {ms2:.3f} ({low2:.3f}-{high2:.3f}) | {shown[0]} | {shown[1]} | "
                  f"{verdict} |", flush=True)
    print()
    anchors = sum(len(r["anchors"]) for r in rows)
    print(f"{len(disagreeing)} of {anchors} anchor times depend on the sitting: " + ", ".join(disagreeing) if disagreeing
          else f"all {anchors} anchor times agree alone and in the sitting (overlapping interquartile ranges of ms, or of the ratio where the machine changed pace)")
    return 1 if disagreeing else 0


if __name__ == "__main__":
    sys.exit(main())
