#!/usr/bin/env python3
"""Quotes and briefs: does ``doublet find`` see short reuse, and does it agree with ``doublet.compare``?

    python bench/quotes.py                                    # this checkout (.venv/bin/doublet), label "after"
    /work/main/.venv/bin/python bench/quotes.py --doublet /work/main/.venv/bin/doublet --label before

Builds one corpus from real BBC News articles (``--shared``/data/bbc-news, exact duplicates dropped; fixed
seed, so every checkout builds the same corpus) holding three kinds of reuse, ``--cases`` of each:

* ``quote-15-24``: 15-24 consecutive words of one article (from a sentence start) inserted, in quotation
  marks, at a sentence boundary of another article;
* ``quote-25+``: the same with 25-40 words;
* ``brief``: a short document (the first 25-60 words of an article) reprinted whole (hard-wrapped otherwise).

Quotes of 15-19 words are also tallied on their own (the case issue 14 measured).

Every article serves one case only. Each gold pair is (source, copy). ``doublet find`` runs on the corpus at
the defaults and at ``--min-words 15 --min-passage-words 12``; recall is the share of gold pairs reported.
Agreement with ``doublet.compare`` is measured per gold pair two ways: ``find`` of the two documents alone
against ``compare`` of them (same pair, kind and passages: they must agree exactly), and the corpus run's
verdict (pair reported or not) against ``compare``'s (boilerplate statistics of the corpus aside).

The doublet package imported is the interpreter's (run it with the checkout's own python); results for the
label are merged into ``bench/results/quotes.json`` and the table ``quotes.md`` is rewritten from all labels.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import doublet
from doublet.tokens import tokenize

BENCH = Path(__file__).resolve().parent
SETTINGS: dict[str, dict[str, int]] = {"defaults": {}, "min-words-15": {"min_words": 15, "min_passage_words": 12}}
KINDS: dict[str, tuple[int, int]] = {"quote-15-24": (15, 24), "quote-25+": (25, 40), "brief": (25, 60)}
SHORTEST = "(of which 15-19)"  # quotes of 15-19 words, the case issue 14 measured


def articles(shared: Path) -> list[str]:
    """BBC News article texts, exact duplicates dropped, in archive order."""
    seen: set[str] = set()
    out: list[str] = []
    with tarfile.open(shared / "data" / "bbc-news" / "bbc.tar.gz") as tar:
        for m in sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name):
            f = tar.extractfile(m)
            text = f.read().decode("utf-8", "replace").strip() if f else ""
            if text and text not in seen and len(text.split()) >= 120:
                seen.add(text)
                out.append(text)
    return out


def sentence_starts(text: str, starts: list[int]) -> list[int]:
    """Indices of the words that begin a sentence or a line (the first word, and any after . ! ? or a newline)."""
    out = [0]
    for k in range(1, len(starts)):
        between = text[starts[k - 1]:starts[k]]
        if "\n" in between or re.search(r"[.!?][\"')\]]*\s", between):
            out.append(k)
    return out


def words_span(text: str, first: int, count: int) -> str:
    """The raw text of ``count`` doublet words of ``text`` from word ``first`` on."""
    tok = tokenize(text)
    return text[int(tok.starts[first]):int(tok.ends[first + count - 1])]


def build(shared: Path, cases: int, seed: int) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The corpus (id, text) and its gold pairs (a, b, kind, words)."""
    rng = random.Random(seed)
    pool = articles(shared)
    rng.shuffle(pool)
    need = cases * 5  # two articles per quote case, one per brief
    if len(pool) < need:
        raise SystemExit(f"{len(pool)} articles, {need} needed: lower --cases")
    docs: list[dict[str, str]] = []
    gold: list[dict[str, Any]] = []
    it = iter(pool)
    for kind, (lo, hi) in KINDS.items():
        for c in range(cases):
            n = rng.randint(lo, hi)
            if kind == "brief":
                text = next(it)
                brief = words_span(text, 0, n)
                wrapped = re.sub(r"(.{40,70}?) ", lambda m: m.group(1) + "\n", " ".join(brief.split()))
                a, b = f"{kind}-{c:03d}-a", f"{kind}-{c:03d}-b"
                docs += [{"id": a, "text": brief}, {"id": b, "text": wrapped}]
            else:
                src, dst = next(it), next(it)
                tok = tokenize(src)
                firsts = [k for k in sentence_starts(src, tok.starts.tolist()) if k + n <= len(tok)]
                quote = words_span(src, rng.choice(firsts), n)
                dtok = tokenize(dst)
                spots = [k for k in sentence_starts(dst, dtok.starts.tolist()) if k > 0]
                at = int(dtok.starts[rng.choice(spots)]) if spots else len(dst)
                copy = dst[:at] + f'"{" ".join(quote.split())}" ' + dst[at:]
                a, b = f"{kind}-{c:03d}-a", f"{kind}-{c:03d}-b"
                docs += [{"id": a, "text": src}, {"id": b, "text": copy}]
            gold.append({"a": a, "b": b, "kind": kind, "words": n})
    return docs, gold


def run_find(exe: str, corpus: Path, out: Path, setting: dict[str, int]) -> tuple[dict[tuple[str, str], dict], float]:
    """``doublet find`` on the corpus: its pairs by (a, b), and the wall time."""
    args = [exe, "find", str(corpus), "-o", str(out), "-q", "--workers", "1"]
    for k, v in setting.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    t0 = time.perf_counter()
    subprocess.run(args, check=True)
    took = time.perf_counter() - t0
    pairs = {}
    with open(out / "pairs.jsonl", encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            pairs[(p["a"], p["b"])] = p
    return pairs, took


def same(x: dict | None, y: dict | None) -> bool:
    """Two pair records agree: both absent, or the same kind and passages."""
    if x is None or y is None:
        return x is None and y is None
    return x["kind"] == y["kind"] and x["passages"] == y["passages"]


def measure(exe: str, docs: list[dict[str, str]], gold: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    corpus = work / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    text = {d["id"]: d["text"] for d in docs}
    out: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cfg = doublet.Config(workers=1, **setting)
        found, took = run_find(exe, corpus, work / name, setting)
        by_kind: dict[str, dict[str, int]] = {k: {"pairs": 0, "found": 0, "compare": 0, "pairwise_agree": 0,
                                                  "corpus_agree": 0} for k in [*KINDS, SHORTEST]}
        misses: list[dict[str, Any]] = []
        for g in gold:
            rows = [by_kind[g["kind"]]]
            if g["kind"] == "quote-15-24" and g["words"] <= 19:  # the case, also counted on its own
                rows.append(by_kind[SHORTEST])
            for row in rows:
                row["pairs"] += 1
            c = doublet.compare(text[g["a"]], text[g["b"]], cfg)
            cd = None if c.kind is None else {**c.to_dict(), "a": g["a"], "b": g["b"]}
            alone = doublet.find([(g["a"], text[g["a"]]), (g["b"], text[g["b"]])], cfg).pairs
            fd = alone[0].to_dict() if alone else None
            in_corpus = found.get((g["a"], g["b"]))
            for row in rows:
                row["found"] += in_corpus is not None
                row["compare"] += cd is not None
                row["pairwise_agree"] += same(fd, cd)
                row["corpus_agree"] += (in_corpus is None) == (cd is None)
            if not same(fd, cd) or (in_corpus is None) != (cd is None):
                misses.append({"a": g["a"], "b": g["b"], "kind": g["kind"], "words": g["words"],
                               "compare": None if cd is None else cd["kind"],
                               "find_alone": None if fd is None else fd["kind"],
                               "find_corpus": None if in_corpus is None else in_corpus["kind"]})
        for row in by_kind.values():
            row["recall"] = round(row["found"] / row["pairs"], 4) if row["pairs"] else 0.0
        out[name] = {"setting": setting, "seconds": round(took, 2), "pairs_reported": len(found),
                     "by_kind": by_kind, "disagreements": misses}
        print(f"{name}: {took:.1f}s " + "  ".join(f"{k} {r['found']}/{r['pairs']} (compare {r['compare']}, "
                                                   f"alone==compare {r['pairwise_agree']})"
                                                   for k, r in by_kind.items()), file=sys.stderr)
    return out


def write_md(results: dict[str, Any], path: Path) -> None:
    lines = ["# Quotes and briefs (`bench/quotes.py`)", "",
             f"Corpus: {results['corpus']['documents']} BBC News documents, {results['corpus']['cases']} cases of "
             "each kind (seed " f"{results['corpus']['seed']}). Recall = gold pairs reported by `doublet find` on "
             "the corpus; compare = pairs `doublet.compare` calls reuse; alone = `find` of the two documents alone "
             "agrees exactly with `compare` (kind and passages); corpus = the corpus run's verdict agrees with "
             "`compare`'s.", "",
             "| code | setting | kind | recall | found | compare | alone = compare | corpus = compare | find s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, runs in results["runs"].items():
        for name, r in runs.items():
            for kind, k in r["by_kind"].items():
                lines.append(f"| {label} | {name} | {kind} | {k['recall']:.3f} | {k['found']}/{k['pairs']} | "
                             f"{k['compare']} | {k['pairwise_agree']}/{k['pairs']} | {k['corpus_agree']}/{k['pairs']} "
                             f"| {r['seconds']} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--doublet", default=str(BENCH.parent / ".venv" / "bin" / "doublet"))
    ap.add_argument("--label", default="after")
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--shared", default="/work/shared")
    ap.add_argument("--out", default=str(BENCH / "results" / "quotes"))
    a = ap.parse_args(argv)
    docs, gold = build(Path(a.shared), a.cases, a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        runs = measure(a.doublet, docs, gold, Path(tmp))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = out.with_suffix(".json")
    old = json.loads(path.read_text()) if path.exists() else {}
    corpus = {"documents": len(docs), "cases": a.cases, "seed": a.seed}
    results = {"corpus": corpus, "runs": old.get("runs", {}) if old.get("corpus") == corpus else {}}
    results["runs"][a.label] = runs
    path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    write_md(results, out.with_suffix(".md"))


if __name__ == "__main__":
    main()
