#!/usr/bin/env python3
"""Web input: extraction quality on the article-extraction benchmark, and a run on real Common Crawl records.

    python bench/extraction.py

1. **Extraction** on ../shared/data/article-extraction-benchmark (181 news/blog pages with gold article
   text). doublet reads the ``html/`` folder exactly as ``doublet find`` does (``.html.gz`` files, charset
   detection, main-text extraction; no URL given) and is compared with trafilatura's defaults called directly
   (``trafilatura.extract(html)`` on the UTF-8 text) and with the whole page text (``--keep-boilerplate``).
   Scores are the benchmark's own (its ``evaluate.py``): per page, the multiset of word 4-gram shingles
   (words = ``\\w+``) of the prediction against the gold's gives tp/fp/fn, normalised to sum to 1; precision
   and recall are the means over pages, F1 their harmonic mean. The same with single words ("token") is
   reported too, and a bootstrap 95 % half-interval (1,000 resamples, fixed seed).
2. **WARC** on ../shared/data/warc-samples: ``doublet find`` through the command line; records read, HTML
   pages extracted, records skipped by reason, problems and wall time.

Writes bench/results/extraction.json and extraction.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
AEB = SHARED / "data" / "article-extraction-benchmark"
WARC = SHARED / "data" / "warc-samples" / "cc-main-2020-34-excerpt.warc.gz"
RESULTS = HERE / "results"
TOKEN = re.compile(r"\w+")

Counts = tuple[float, float, float]


def grams(text: str, n: int) -> Counter[tuple[str, ...]]:
    toks = TOKEN.findall(text or "")
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i:i + n])


def page_counts(gold: str, pred: str, n: int) -> Counts:
    """tp, fp, fn of one page over word n-gram multisets, normalised to sum to 1 (the benchmark's rule)."""
    g, p = grams(gold, n), grams(pred, n)
    tp, fp, fn = sum((g & p).values()), sum((p - g).values()), sum((g - p).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def prf(counts: list[Counts]) -> dict[str, float]:
    def one(tp: float, fp: float, fn: float, miss: float) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == miss == 0 else tp / (tp + miss)

    p = statistics.mean(one(tp, fp, fn, fp) for tp, fp, fn in counts if tp + fp > 0)
    r = statistics.mean(one(tp, fp, fn, fn) for tp, fp, fn in counts if tp + fn > 0)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def scores(gold: dict[str, str], pred: dict[str, str], n: int, boot: int = 1000) -> dict[str, float]:
    counts = [page_counts(gold[k], pred.get(k, ""), n) for k in sorted(gold)]
    out = prf(counts)
    rng = random.Random(1)
    samples = [prf([counts[rng.randrange(len(counts))] for _ in counts]) for _ in range(boot)]
    for key in ("precision", "recall", "f1"):
        out[f"{key}_ci95"] = 1.96 * statistics.stdev(s[key] for s in samples)
    return {k: round(v, 4) for k, v in out.items()}


def timed(fn: Callable[[], dict[str, str]]) -> tuple[dict[str, str], float]:
    t = time.perf_counter()
    got = fn()
    return got, time.perf_counter() - t


def doublet_texts(keep_boilerplate: bool) -> dict[str, str]:
    from doublet.documents import read_documents

    problems: list = []
    docs = read_documents([AEB / "html"], problems=problems, keep_boilerplate=keep_boilerplate)
    out = {d.id.removesuffix(".html.gz"): d.text for d in docs}
    for p in problems:
        print("problem:", p.message(), file=sys.stderr)
    return out


def trafilatura_texts(pages: dict[str, str]) -> dict[str, str]:
    import trafilatura

    return {k: trafilatura.extract(html) or "" for k, html in pages.items()}


def extraction() -> dict:
    import trafilatura

    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    gold = {k: v["articleBody"] for k, v in truth.items()}
    pages = {k: gzip.decompress((AEB / "html" / f"{k}.html.gz").read_bytes()).decode("utf-8") for k in truth}
    doublet_texts(False)  # warm-up: imports trafilatura and its date parser once, outside the timings
    systems = {
        "doublet (main text)": timed(lambda: doublet_texts(False)),
        f"trafilatura {trafilatura.__version__} defaults": timed(lambda: trafilatura_texts(pages)),
        "doublet --keep-boilerplate (whole page)": timed(lambda: doublet_texts(True)),
    }
    rows = {}
    for name, (pred, seconds) in systems.items():
        rows[name] = {"shingle4": scores(gold, pred, 4), "token": scores(gold, pred, 1),
                      "pages": len(pred), "empty": sum(1 for k in gold if not pred.get(k, "").strip()),
                      "seconds": round(seconds, 2), "ms_per_page": round(1000 * seconds / len(gold), 1)}
    return {"pages": len(gold), "systems": rows}


def warc_run() -> dict:
    out = RESULTS / "tmp" / "warc-samples"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "doublet.cli", "find", str(WARC), "-o", str(out), "--quiet"], check=True)
    wall = time.perf_counter() - t
    summary = json.loads((out / "summary.json").read_text())
    c = summary["counts"]
    return {"file": str(WARC.relative_to(SHARED)), "bytes": WARC.stat().st_size,
            "records_read": c["input_records"] + c["skipped_records"], "html_documents": c["documents"],
            "rejected": c["rejected"], "repaired": c["repaired"], "skipped": summary["skipped"],
            "problems": summary["problems"], "characters": c["characters"], "pairs": c["pairs"],
            "wall_s": round(wall, 2), "timings_s": summary["timings_s"]}


def markdown(ex: dict, wr: dict) -> str:
    lines = [f"Extraction on the article-extraction benchmark ({ex['pages']} pages); the benchmark's word 4-gram "
             "shingle P/R/F1 (± bootstrap 95 %), and single-word P/R/F1:", "",
             "| system | P | R | F1 | token P | token R | token F1 | empty | ms/page |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in ex["systems"].items():
        s, t = r["shingle4"], r["token"]
        lines.append(f"| {name} | {s['precision']:.3f} ± {s['precision_ci95']:.3f} | {s['recall']:.3f} ± "
                     f"{s['recall_ci95']:.3f} | **{s['f1']:.3f}** ± {s['f1_ci95']:.3f} | {t['precision']:.3f} | "
                     f"{t['recall']:.3f} | {t['f1']:.3f} | {r['empty']} | {r['ms_per_page']} |")
    skipped = ", ".join(f"{n} {k}" for k, n in wr["skipped"].items())
    lines += ["", f"WARC ({wr['file']}, {wr['bytes'] / 1e3:.0f} kB): {wr['records_read']} records read, "
              f"{wr['html_documents']} HTML pages extracted ({wr['characters']:,} characters), {wr['rejected']} "
              f"rejected, {wr['repaired']} repaired, skipped: {skipped}; `doublet find` wall time "
              f"{wr['wall_s']} s (read + extract + fingerprint {wr['timings_s']['read+fingerprint']} s)."]
    return "\n".join(lines) + "\n"


def run() -> tuple[dict, str]:
    """Both measurements: the JSON result (also written to bench/results/extraction.json) and its Markdown."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    ex = extraction()
    wr = warc_run()
    result = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
              "extraction": ex, "warc_samples": wr}
    (RESULTS / "extraction.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    md = markdown(ex, wr)
    (RESULTS / "extraction.md").write_text(md)
    return result, md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args(argv)
    if not AEB.exists() or not WARC.exists():
        ap.error(f"{AEB} or {WARC} not found: ../shared must sit beside the repository")
    print(run()[1], end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
