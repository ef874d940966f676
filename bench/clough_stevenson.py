#!/usr/bin/env python3
"""doublet on the Clough & Stevenson corpus of plagiarised short answers.

What it measures
----------------
The corpus has 95 student answers to 5 tasks, each labelled by how much of the
task's Wikipedia source text it reuses: cut (copy-paste), light (light revision),
heavy (heavy revision / paraphrase), non (written independently). For every answer
(text a) and the source of its task (text b) this script calls
``doublet.compare(a, b)`` with the default ``doublet.Config()`` and records

* containment_a - fraction of the answer's word 5-gram shingles found in the source
                  (doublet's own normalization and shingling);
* jaccard       - word 5-gram Jaccard of the two texts;
* coverage_a    - fraction of the answer's non-whitespace characters that lie inside
                  doublet's aligned passages (passage intervals merged first);
* kind          - doublet's decision (non-None = doublet would report the pair).

It reports per category (cut/light/heavy/non): n, mean, median, min, max of
containment_a and coverage_a, and how many pairs doublet reports; then, for each of
the two measures, the best single threshold separating reuse (cut+light+heavy) from
non (every midpoint between sorted distinct values is tried; "reuse" = value >=
threshold; accuracy = correct / 95) and the accuracy of doublet's own decision.

Writes a JSON summary (``--out``) and prints a Markdown table for a README.
Deterministic, no network. Text files are decoded as UTF-8 with a cp1252 fallback
(17 of the 100 files are Windows-1252).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = str(Path(__file__).resolve().parents[2] / "shared" / "data" / "clough-stevenson-plagiarism")
CATEGORIES = ("cut", "light", "heavy", "non")
MEASURES = ("containment_a", "coverage_a")

try:
    import doublet
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent / "src"))
    import doublet
from doublet.align import LEVELS


def read_text(path: Path) -> str:
    b = path.read_bytes()
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("cp1252")


def merge(intervals):
    out: list[list[int]] = []
    for s, e in sorted((s, e) for s, e in intervals if e > s):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def coverage(text: str, intervals) -> float:
    """Fraction of non-whitespace characters of ``text`` inside the (merged) intervals."""
    total = sum(1 for ch in text if not ch.isspace())
    if not total:
        return 0.0
    n = len(text)
    covered = sum(1 for s, e in merge(intervals)
                  for ch in text[max(0, s):min(n, e)] if not ch.isspace())
    return covered / total


def describe(values: list[float]) -> dict:
    return dict(n=len(values), mean=round(statistics.fmean(values), 4),
                median=round(statistics.median(values), 4),
                min=round(min(values), 4), max=round(max(values), 4))


def best_threshold(values: list[float], labels: list[bool]) -> dict:
    """Best cut "reuse iff value >= t" over midpoints of sorted distinct values.

    Ties are broken by the smallest threshold; the full range of equally good
    thresholds is reported too.
    """
    distinct = sorted(set(values))
    cands = [(x + y) / 2 for x, y in zip(distinct, distinct[1:])]
    best = None
    best_ts: list[float] = []
    for t in cands:
        correct = sum((v >= t) == lab for v, lab in zip(values, labels))
        if best is None or correct > best:
            best, best_ts = correct, [t]
        elif correct == best:
            best_ts.append(t)
    if best is None:  # all values equal: no midpoint exists
        return dict(threshold=None, accuracy=None, correct=None, n=len(values), tied_range=None)
    return dict(threshold=round(best_ts[0], 4), accuracy=round(best / len(values), 4), correct=best,
                n=len(values), tied_range=[round(best_ts[0], 4), round(best_ts[-1], 4)])


def run(data: Path, config) -> dict:
    rows = list(csv.DictReader(open(data / "file_information.csv", encoding="utf-8", newline="")))
    sources: dict[str, str] = {}
    per_answer = []
    t0 = time.perf_counter()
    for r in sorted(rows, key=lambda r: r["File"]):
        if r["Category"] == "orig":
            continue
        task = r["Task"]
        if task not in sources:
            sources[task] = read_text(data / "texts" / f"orig_task{task}.txt")
        a = read_text(data / "texts" / r["File"])
        pr = doublet.compare(a, sources[task], config)
        per_answer.append(dict(
            file=r["File"], task=task, category=r["Category"],
            containment_a=round(float(pr.containment_a), 6), jaccard=round(float(pr.jaccard), 6),
            containment_b=round(float(pr.containment_b), 6),
            coverage_a=round(coverage(a, [(p.a_start, p.a_end) for p in pr.passages]), 6),
            n_passages=len(pr.passages), kind=pr.kind, level=pr.level if pr.kind is not None else None,
        ))
    elapsed = time.perf_counter() - t0

    by_cat = {}
    for c in CATEGORIES:
        sel = [p for p in per_answer if p["category"] == c]
        by_cat[c] = dict(
            n=len(sel),
            **{m: describe([p[m] for p in sel]) for m in MEASURES},
            jaccard_mean=round(statistics.fmean(p["jaccard"] for p in sel), 4),
            reported=sum(p["kind"] is not None for p in sel),
            kinds={k: sum(str(p["kind"]) == k for p in sel) for k in sorted({str(p["kind"]) for p in sel})},
            levels={lv: sum(p["level"] == lv for p in sel) for lv in LEVEL_NAMES},
        )
    labels = [p["category"] != "non" for p in per_answer]
    thresholds = {m: best_threshold([p[m] for p in per_answer], labels) for m in MEASURES}
    decided = sum((p["kind"] is not None) == lab for p, lab in zip(per_answer, labels))
    return dict(
        data=str(data), n_answers=len(per_answer),
        categories=by_cat,
        best_threshold=thresholds,
        doublet_decision=dict(accuracy=round(decided / len(per_answer), 4), correct=decided, n=len(per_answer)),
        compare_seconds=round(elapsed, 3),
        per_answer=per_answer,
    )


LEVEL_NAMES = [name for name, _ in LEVELS]


def markdown(res: dict) -> str:
    def q(d):
        return f"{d['mean']:.3f} / {d['median']:.3f} / {d['min']:.3f} / {d['max']:.3f}"
    lines = [
        "| category | n | containment_a mean / median / min / max | coverage_a mean / median / min / max | reported by doublet |",
        "|---|---|---|---|---|",
    ]
    for c, d in res["categories"].items():
        lines.append(f"| {c} | {d['n']} | {q(d['containment_a'])} | {q(d['coverage_a'])} | {d['reported']}/{d['n']} |")
    lines += ["", "| reuse (cut+light+heavy) vs non | threshold | accuracy |", "|---|---|---|"]
    for m in MEASURES:
        t = res["best_threshold"][m]
        thr = "–" if t["threshold"] is None else f"{m} ≥ {t['threshold']:.3f}"
        acc = "–" if t["accuracy"] is None else f"{t['accuracy']:.3f} ({t['correct']}/{t['n']})"
        lines.append(f"| best single threshold on {m} | {thr} | {acc} |")
    d = res["doublet_decision"]
    lines.append(f"| doublet's own decision (kind is not None) | default Config | "
                 f"{d['accuracy']:.3f} ({d['correct']}/{d['n']}) |")
    lines += ["", "| category | " + " | ".join(LEVEL_NAMES) + " | not reported |",
              "|---|" + "---|" * (len(LEVEL_NAMES) + 1)]
    for c, d in res["categories"].items():
        lv = d["levels"]
        lines.append(f"| {c} | " + " | ".join(str(lv[n]) for n in LEVEL_NAMES) + f" | {d['n'] - d['reported']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="corpus folder with texts/ and file_information.csv (default: %(default)s)")
    ap.add_argument("--out", default=str(HERE / "results" / "clough_stevenson.json"),
                    help="JSON summary to write (default: %(default)s)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a doublet.Config parameter, e.g. --set min_identity=0.5 (repeatable)")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not (data / "file_information.csv").is_file():
        ap.error(f"no file_information.csv in {data}")

    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = json.loads(value)
    config = doublet.Config(**overrides)
    res = run(data, config)
    try:
        cfg = dataclasses.asdict(config)
    except TypeError:
        cfg = repr(config)
    res["config"] = cfg
    res["versions"] = dict(python=platform.python_version(),
                           doublet=getattr(doublet, "__version__", None))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    print(markdown(res))
    print(f"\n{res['n_answers']} answers, compare() total {res['compare_seconds']:.2f}s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
