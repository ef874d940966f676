#!/usr/bin/env python3
"""The Spark engine beside the local engine: time, memory, the same answer, and shuffle sizes per stage.

    python bench/spark_bench.py                       # sizes 10000,100000: bench/results/spark.json + spark.md
    python bench/spark_bench.py --sizes 10000         # quick check

For each corpus size (built by bench/make_corpus.py, reused from bench/results/tmp/corpora like
bench/speed.py does; ``--corpora DIR`` reads ``corpus-N.jsonl`` from another folder):

1. ``doublet find CORPUS --workers W`` (the local engine) and ``doublet find CORPUS --engine spark
   --workers W`` (Spark ``local[W]``, started by the command: its JVM start-up is in the wall time; the
   engine's own total is reported beside it), end to end in a subprocess, with the peak RSS of the
   process tree (JVM and Python workers included); medians of ``--runs`` runs.
2. Whether the two wrote the same answer: ``pairs.jsonl``, ``clusters.jsonl``, ``boilerplate.jsonl`` and
   ``templates.parquet`` byte for byte.
3. Shuffle bytes written per engine stage (Spark's status store, as the Spark run's summary.json reports
   them), per document, and extrapolated linearly to 1 billion documents; with two sizes, also the growth
   of bytes per document from the smaller corpus to the larger (a stage whose bytes per document grow
   does not scale linearly: its extrapolation is a lower bound).

Output: bench/results/spark.json (machine, load, every run) and bench/results/spark.md (the tables).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import speed  # noqa: E402  (bench/speed.py: corpora, measured subprocess runs, machine description)

RESULTS = HERE / "results"
STAGES = ("read", "fingerprint", "lsh", "candidates", "verify+align", "cluster")
BILLION = 1_000_000_000
SAME_FILES = ("pairs.jsonl", "clusters.jsonl", "boilerplate.jsonl", "templates.parquet")


def log(msg: str) -> None:
    print(f"[spark-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def corpus(n: int, corpora: Path | None, seed: int, workers: int) -> tuple[str, float]:
    """Path and MB of the corpus of ``n`` documents."""
    if corpora is not None:
        path = corpora / f"corpus-{n}.jsonl"
        meta = json.loads((corpora / f"corpus-{n}.meta.json").read_text())
        return str(path), float(meta["mb"])
    meta = speed.ensure_corpus(n, seed, workers)
    return str(speed.CORPORA / f"corpus-{n}.jsonl"), float(meta["mb"])


def run(engine: str, path: str, out: Path, workers: int, timeout: float) -> dict[str, Any]:
    res = speed.run_doublet(path, out, workers, timeout, rss_limit=20 << 30, extra=["--engine", engine])
    if res.get("returncode") == 0:
        summary = json.loads((out / "summary.json").read_text())
        res["engine_total_s"] = summary["timings_s"]["total"]
        if engine == "spark":
            res["shuffle"] = summary["spark"]["shuffle"]
            res["partitions"] = summary["spark"]["partitions"]
    return res


def same_files(a: Path, b: Path) -> dict[str, bool]:
    return {name: (a / name).read_bytes() == (b / name).read_bytes()
            for name in SAME_FILES}


def measure(n: int, path: str, mb: float, workers: int, runs: int, timeout: float, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"documents": n, "mb": mb, "runs": {}}
    for engine in ("local", "spark"):
        out["runs"][engine] = []
        for k in range(runs):
            log(f"{n:,} documents: {engine} run {k + 1}/{runs}")
            res = run(engine, path, tmp / f"{engine}-{n}", workers, timeout)
            if res.get("returncode") != 0:
                raise SystemExit(f"{engine} failed on {path}: {res.get('error')}")
            out["runs"][engine].append(res)
    out["same_answer"] = same_files(tmp / f"local-{n}", tmp / f"spark-{n}")
    for engine in ("local", "spark"):
        rs = out["runs"][engine]
        out[engine] = {"wall_s": speed.median([r["wall_s"] for r in rs]),
                       "engine_total_s": speed.median([r["engine_total_s"] for r in rs]),
                       "peak_rss_mb": max(r["peak_rss_mb"] for r in rs), "timings_s": rs[-1]["timings_s"]}
    shuffle = out["runs"]["spark"][-1]["shuffle"]
    out["shuffle"] = {s: {"write_bytes": shuffle[s]["write"], "bytes_per_doc": round(shuffle[s]["write"] / n, 1),
                          "jobs": shuffle[s]["jobs"]} for s in STAGES}
    total = sum(shuffle[s]["write"] for s in STAGES)
    out["shuffle_total"] = {"write_bytes": total, "bytes_per_doc": round(total / n, 1)}
    out["counts"] = out["runs"]["local"][-1]["counts"]
    out["candidates"] = out["runs"]["local"][-1]["candidates"]
    return out


def extrapolate(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Shuffle bytes per stage at 1B documents, linearly from the largest size; growth of bytes/doc."""
    big = sizes[-1]
    small = sizes[0] if len(sizes) > 1 else None
    out: dict[str, Any] = {}
    for s in [*STAGES, "total"]:
        per_doc = big["shuffle_total"]["bytes_per_doc"] if s == "total" else big["shuffle"][s]["bytes_per_doc"]
        row = {"bytes_per_doc": per_doc, "bytes_at_1b_docs": round(per_doc * BILLION)}
        if small is not None:
            before = small["shuffle_total"]["bytes_per_doc"] if s == "total" else small["shuffle"][s]["bytes_per_doc"]
            row["growth_per_doc"] = round(per_doc / before, 2) if before else None
        out[s] = row
    return out


def fmt_bytes(b: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if b >= size:
            return f"{b / size:,.1f} {unit}"
    return f"{b:,.0f} B"


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [f"Machine: {m['cpu_model'] or 'unknown CPU'}, {m['usable_cores']} usable cores, {m['ram_gb']} GB RAM, "
             f"Python {m['python']}, pyspark {res['pyspark']}; `--workers {res['workers']}` (Spark `local[{res['workers']}]`); "
             f"medians of {res['runs']} run(s); load average {res['load_before']} before, {res['load_after']} after.", "",
             "| docs | MB | local wall s | spark wall s (engine s) | spark / local | local peak RSS MB | spark peak RSS MB "
             f"| same {' / '.join(SAME_FILES)} |",
             "|---|---|---|---|---|---|---|---|"]
    for s in res["sizes"]:
        lo, sp = s["local"], s["spark"]
        same = " / ".join("yes" if s["same_answer"].get(k) else "**no**" if k in s["same_answer"] else "–"
                          for k in SAME_FILES)
        lines.append(f"| {s['documents']:,} | {s['mb']:,.0f} | {lo['wall_s']:.1f} | {sp['wall_s']:.1f} "
                     f"({sp['engine_total_s']:.1f}) | {sp['wall_s'] / lo['wall_s']:.1f}× | {lo['peak_rss_mb']:,.0f} "
                     f"| {sp['peak_rss_mb']:,.0f} | {same} |")
    lines += ["", "Stage times, seconds (local / spark):", "",
              "| docs | " + " | ".join(k for k in res["sizes"][-1]["local"]["timings_s"] if k != "total") + " |",
              "|---|" + "---|" * (len(res["sizes"][-1]["local"]["timings_s"]) - 1)]
    for s in res["sizes"]:
        keys = [k for k in s["local"]["timings_s"] if k != "total"]
        lines.append(f"| {s['documents']:,} | " + " | ".join(
            f"{s['local']['timings_s'][k]:.1f} / {s['spark']['timings_s'].get(k, 0):.1f}" for k in keys) + " |")
    head = " | ".join(f"{s['documents']:,}: bytes (per doc)" for s in res["sizes"])
    lines += ["", "Shuffle written per stage (Spark status store), per document, and linear extrapolation to 1B "
              "documents:", "",
              f"| stage | {head} | growth of bytes/doc | at 1B docs |",
              "|---|" + "---|" * len(res["sizes"]) + "---|---|"]
    ext = res["extrapolation"]
    for st in [*STAGES, "total"]:
        cells = []
        for s in res["sizes"]:
            d = s["shuffle_total"] if st == "total" else s["shuffle"][st]
            cells.append(f"{fmt_bytes(d['write_bytes'])} ({d['bytes_per_doc']:,.0f})")
        growth = ext[st].get("growth_per_doc")
        lines.append(f"| {st} | " + " | ".join(cells) + f" | {'–' if growth is None else f'{growth}×'} "
                     f"| {fmt_bytes(ext[st]['bytes_at_1b_docs'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--corpora", type=Path, default=None, help="folder with corpus-N.jsonl and corpus-N.meta.json")
    ap.add_argument("--out", type=Path, default=RESULTS / "spark.json")
    args = ap.parse_args(argv)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from importlib.metadata import version

    tmp = speed.TMP / "spark-bench"
    tmp.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"machine": speed.machine(), "pyspark": version("pyspark"), "workers": args.workers,
                           "runs": args.runs, "load_before": round(os.getloadavg()[0], 1), "sizes": []}
    for n in (int(x) for x in args.sizes.split(",")):
        path, mb = corpus(n, args.corpora, args.seed, args.workers)
        res["sizes"].append(measure(n, path, mb, args.workers, args.runs, args.timeout, tmp))
    res["load_after"] = round(os.getloadavg()[0], 1)
    res["extrapolation"] = extrapolate(res["sizes"])
    shutil.rmtree(tmp, ignore_errors=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    md = markdown(res)
    args.out.with_suffix(".md").write_text(md)
    print(md)
    return 0 if all(all(s["same_answer"].values()) for s in res["sizes"]) else 1


if __name__ == "__main__":
    sys.exit(main())
