#!/usr/bin/env python3
"""Two doublet builds on one corpus, run back to back, alternating: wall time, peak RSS and counts.

    python bench/ab.py CORPUS --a /path/to/old/.venv/bin/doublet --b .venv/bin/doublet --runs 3 \\
        --out bench/results/ab-1m.json

A machine's speed drifts within a session (this one's 1M runs have ranged 165-182 s for one commit), so a
change's cost is measured against the build before it on the same input, in one sitting: runs alternate
a, b, a, b, ... and each side's median is reported with the ratio b / a. Each run is ``doublet find CORPUS -o
OUT --quiet --workers W``; peak RSS is the process tree's (psutil, every 0.1 s), the counts and stage
timings come from OUT/summary.json. Writes ``--out`` (JSON) and the same name with ``.md`` (a table).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def run_once(doublet: str, corpus: Path, workers: int) -> dict:
    """One ``doublet find`` run: wall seconds, peak RSS (MB, process tree), summary counts and timings."""
    with tempfile.TemporaryDirectory(prefix="ab-") as tmp:
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        proc = subprocess.Popen([doublet, "find", str(corpus), "-o", str(out), "--quiet", "--workers", str(workers)])
        peak = 0
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{doublet} find failed with status {proc.returncode}")
        summary = json.loads((out / "summary.json").read_text())
    c = summary["counts"]
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak / 1e6, 1), "timings_s": summary["timings_s"],
            "pairs": c["pairs"], "documents": c["documents"], "candidates": c.get("candidates"),
            "templates": summary.get("templates")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--a", required=True, help="the doublet executable to compare against (before)")
    ap.add_argument("--b", required=True, help="the doublet executable under test (after)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    runs: dict[str, list[dict]] = {"a": [], "b": []}
    for k in range(args.runs):
        for side in ("a", "b"):
            r = run_once(getattr(args, side), args.corpus, args.workers)
            runs[side].append(r)
            print(f"ab: run {k + 1} {side}: {r['wall_s']} s, {r['peak_rss_mb']} MB, {r['pairs']:,} pairs",
                  file=sys.stderr)
    med = {s: statistics.median(r["wall_s"] for r in runs[s]) for s in runs}
    rss = {s: max(r["peak_rss_mb"] for r in runs[s]) for s in runs}
    result = {"corpus": str(args.corpus), "a": args.a, "b": args.b, "workers": args.workers, "runs": runs,
              "median_wall_s": med, "max_peak_rss_mb": rss, "ratio_b_over_a": round(med["b"] / med["a"], 3)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    lines = ["| build | runs (s) | median s | peak RSS MB | pairs |", "|---|---|---|---|---|"]
    for s in ("a", "b"):
        lines.append(f"| {s}: `{getattr(args, s)}` | {', '.join(str(r['wall_s']) for r in runs[s])} | {med[s]} | "
                     f"{rss[s]} | {runs[s][-1]['pairs']:,} |")
    lines.append(f"\nb / a = {result['ratio_b_over_a']} (medians of {args.runs} alternating runs, {args.workers} workers, "
                 f"{runs['a'][-1]['documents']:,} documents)\n")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
