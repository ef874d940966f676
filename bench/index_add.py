"""Throughput of `doublet index add` against `doublet find` on the same documents (default: dev-reuters).

Both run end to end through the command line, in fresh processes, with the same number of workers: `find`
reads, fingerprints, finds candidates, verifies and aligns every pair and writes its outputs; `index add`
reads, fingerprints and writes documents, fingerprints, band keys and document frequencies into a new index
(created just before, not timed). The target is add ≤ 2 × find in time (throughput within 2x).

    python bench/index_add.py [CORPUS] [--runs 3] [--workers 2]

Prints both medians and their ratio; writes bench/results/index_add.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "bench" / "dev-reuters" / "corpus.jsonl"
RESULTS = ROOT / "bench" / "results" / "index_add.json"

# the index sub-app, whether or not doublet.cli mounts it yet
INDEX_CLI = ("import sys; from doublet.cli_index import index_app; "
             "sys.exit(index_app(sys.argv[1:], prog_name='doublet index', standalone_mode=True))")


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not corpus.exists():
        raise SystemExit(f"{corpus} not found")
    py = sys.executable
    w = str(args.workers)
    find_s: list[float] = []
    add_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="doublet-bench-") as tmp:
        for run in range(args.runs):
            out = Path(tmp) / f"find{run}"
            find_s.append(timed([py, "-m", "doublet.cli", "find", str(corpus), "-o", str(out), "-q", "-w", w]))
            idx = Path(tmp) / f"idx{run}"
            timed([py, "-c", INDEX_CLI, "create", str(idx), "-q"])
            add_s.append(timed([py, "-c", INDEX_CLI, "add", str(idx), str(corpus), "-q", "-w", w]))
            stats = json.loads(subprocess.run([py, "-c", INDEX_CLI, "stats", str(idx)], capture_output=True,
                                              text=True, check=True).stdout)
            summary = json.loads((out / "summary.json").read_text())
            print(f"run {run + 1}: find {find_s[-1]:.2f} s   index add {add_s[-1]:.2f} s", file=sys.stderr)
            shutil.rmtree(out)
            shutil.rmtree(idx)
    n, chars = summary["counts"]["documents"], summary["counts"]["characters"]
    f, a = statistics.median(find_s), statistics.median(add_s)
    result = {
        "corpus": str(corpus),
        "documents": n,
        "characters": chars,
        "workers": args.workers,
        "runs": args.runs,
        "find_s": [round(x, 3) for x in find_s],
        "index_add_s": [round(x, 3) for x in add_s],
        "find_median_s": round(f, 3),
        "index_add_median_s": round(a, 3),
        "find_docs_per_s": round(n / f, 1),
        "index_add_docs_per_s": round(n / a, 1),
        "find_mb_per_s": round(chars / 1e6 / f, 2),
        "index_add_mb_per_s": round(chars / 1e6 / a, 2),
        "ratio_add_over_find_time": round(a / f, 3),
        "target": "index add time <= 2 x find time",
        "meets_target": a <= 2 * f,
        "index_documents": stats["documents"],
        "index_bytes_on_disk": stats["bytes_on_disk"],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"find       {f:6.2f} s  {n / f:8,.0f} docs/s  {chars / 1e6 / f:6.2f} MB/s")
    print(f"index add  {a:6.2f} s  {n / a:8,.0f} docs/s  {chars / 1e6 / a:6.2f} MB/s")
    print(f"ratio (add time / find time): {a / f:.2f}  (target <= 2.0: {'met' if a <= 2 * f else 'NOT met'})")


if __name__ == "__main__":
    main()
