#!/usr/bin/env python3
"""Scale-invariance corpora: a labelled set embedded in 10x-100x as many filler documents.

    python bench/embed_corpus.py GOLD_DIR --out DIR --filler makecorpus --factor 10 [--seed 1]
    python bench/embed_corpus.py GOLD_DIR --out DIR --filler real [--max-filler N]

A system whose boilerplate or popularity rules depend on document frequency behaves differently when the
same documents sit in a larger collection. This script keeps a labelled set (a dev set or a
``make_reprints.py`` folder) unchanged and adds filler around it, so the *same* gold pairs can be scored
on a small run and on a big one.

DIR gets:

* ``corpus.jsonl`` -- the labelled documents only, a byte-identical copy of ``GOLD_DIR/corpus.jsonl``
  (score.py reads document ids from it, for ARI);
* every other file of GOLD_DIR (``gold_pairs.jsonl``, ``ignore_pairs.jsonl``, ``gold_clusters.jsonl``,
  ``doc_meta.jsonl``, ``meta.json``, ...) copied unchanged, so DIR is a valid gold folder;
* ``full_corpus.jsonl`` -- the labelled lines (byte-identical) and the filler, shuffled together by
  ``--seed``: what the system runs on. score.py ignores predicted pairs with ids it does not know, so
  ``score.py DIR RUN/pairs.jsonl`` scores exactly the labelled pairs;
* ``embed.json`` -- what was added (filler kind, counts, id prefix, seed, time).

Filler kinds:

* ``makecorpus`` -- ``bench/make_corpus.py`` output (real and Markov-generated articles, its own reprints,
  50 sites with their own headers/footers) of ``(factor - 1) x`` the labelled size; ids ``zmc0000000``...
* ``real`` -- every Reuters-21578 story with a body (title + body), every 20 Newsgroups post (Subject +
  body, quoting and signatures kept) and every BBC article, as whole texts (~39,000 documents; cap with
  ``--max-filler``); ids ``zreu``/``zng``/``zbbc`` + a number. dev-reuters was built from Reuters-21578, so
  this filler contains its source articles: pairs between labelled and filler documents are expected and
  unscored; only pairs among labelled documents count.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("DOUBLET_SHARED", "/work/shared"))
DATA = SHARED / "data"
PREFIX = {"makecorpus": "zmc", "reuters": "zreu", "newsgroups": "zng", "bbc": "zbbc"}


def make_corpus_module() -> ModuleType:
    """bench/make_corpus.py, imported by path (bench/ is not a package).

    Unless ``$DOUBLET_BENCH_CACHE`` is set, its material cache goes to a folder keyed by a digest of
    make_corpus.py: checkouts of other branches share ``~/.cache/doublet-bench`` and may pickle a different
    format under the same file name."""
    name = "make_corpus"
    if name in sys.modules:
        return sys.modules[name]
    path = BENCH / "make_corpus.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    own = "DOUBLET_BENCH_CACHE" not in os.environ
    if own:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "doublet-bench"
        os.environ["DOUBLET_BENCH_CACHE"] = str(base / f"make_corpus-{digest}")
    try:
        spec.loader.exec_module(mod)   # reads $DOUBLET_BENCH_CACHE at import
    finally:
        if own:
            del os.environ["DOUBLET_BENCH_CACHE"]
    return mod


def labelled_lines(gold: Path) -> list[bytes]:
    """The labelled corpus as raw lines (each ending in a newline), byte for byte."""
    lines = (gold / "corpus.jsonl").read_bytes().splitlines(keepends=True)
    return [ln if ln.endswith(b"\n") else ln + b"\n" for ln in lines if ln.strip()]


def line(doc_id: str, text: str) -> bytes:
    return (json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n").encode("utf-8")


def filler_makecorpus(n: int, seed: int, data: Path, workers: int) -> list[bytes]:
    """``n`` make_corpus.py documents with ids re-prefixed ``zmc``."""
    mc = make_corpus_module()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "filler.jsonl"
        mc.make_corpus(n, seed, out, workers=workers, data=data)
        rows = []
        with open(out, encoding="utf-8") as f:
            for ln in f:
                r = json.loads(ln)
                rows.append(line(PREFIX["makecorpus"] + r["id"][1:], r["text"]))
    return rows


def filler_real(data: Path, limit: int | None) -> list[bytes]:
    """Every Reuters-21578 body story, 20 Newsgroups post and BBC article as a whole text (make_corpus.py's
    readers; empty texts skipped), in reading order, optionally the first ``limit``."""
    mc = make_corpus_module()
    rows: list[bytes] = []
    for name in ("reuters", "newsgroups", "bbc"):
        _, texts = mc._read_source(name, data)
        k = 0
        for text, _train, _usable in texts:
            if text.strip():
                rows.append(line(f"{PREFIX[name]}{k:06d}", text))
                k += 1
    return rows[:limit] if limit else rows


def embed(gold: Path, out: Path, filler: str, factor: float = 10, seed: int = 1, data: Path = DATA,
          max_filler: int | None = None, workers: int = 1) -> dict[str, Any]:
    """Write the embedded folder; returns the content of embed.json."""
    t0 = time.perf_counter()
    gold, out = Path(gold), Path(out)
    if out.resolve() == gold.resolve():
        raise ValueError("--out must differ from the gold folder")
    lab = labelled_lines(gold)
    ids = {json.loads(ln)["id"] for ln in lab}
    if filler == "makecorpus":
        n_fill = int(round((factor - 1) * len(lab)))
        fill = filler_makecorpus(n_fill, seed, data, workers)
    elif filler == "real":
        fill = filler_real(data, max_filler)
    else:
        raise ValueError(f"unknown filler {filler!r}")
    clash = [ln for ln in fill if json.loads(ln)["id"] in ids]
    if clash:
        raise ValueError(f"{len(clash)} filler ids collide with labelled ids")
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(gold.iterdir()):
        if f.is_file():
            shutil.copyfile(f, out / f.name)
    allrows = lab + fill
    random.Random(seed).shuffle(allrows)
    with open(out / "full_corpus.jsonl", "wb") as f:
        f.writelines(allrows)
    info = dict(gold=str(gold.resolve()), filler=filler, factor=factor if filler == "makecorpus" else None,
                seed=seed, labelled_docs=len(lab), filler_docs=len(fill), total_docs=len(allrows),
                scale=round(len(allrows) / max(1, len(lab)), 2),
                filler_id_prefixes=[PREFIX["makecorpus"]] if filler == "makecorpus" else
                [PREFIX[k] for k in ("reuters", "newsgroups", "bbc")],
                full_corpus_mb=round(sum(map(len, allrows)) / 1e6, 1), seconds=round(time.perf_counter() - t0, 2))
    (out / "embed.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gold", type=Path, help="labelled set folder (corpus.jsonl, gold_pairs.jsonl, ...)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--filler", choices=["makecorpus", "real"], required=True)
    ap.add_argument("--factor", type=float, default=10, help="makecorpus: total size / labelled size (default 10)")
    ap.add_argument("--max-filler", type=int, default=None, help="real: use only the first N filler documents")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="make_corpus.py processes (output does not depend on it)")
    ap.add_argument("--data", type=Path, default=DATA, help=f"shared data folder (default {DATA})")
    a = ap.parse_args(argv)
    info = embed(a.gold, a.out, a.filler, a.factor, a.seed, a.data, a.max_filler, a.workers)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
