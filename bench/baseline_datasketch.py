#!/usr/bin/env python3
"""Baseline: datasketch MinHashLSH near-duplicate detection (what users would pick instead of doublet).

What it measures
----------------
Every document is reduced to its set of lowercased word 5-gram shingles (words =
regex ``\\w+`` on the lowercased text; a shingle is 5 consecutive words joined by one
space; a document with fewer than 5 words gets a single shingle of all its words).
Each set is MinHashed (128 permutations, ``MinHash.bulk`` -> ``LeanMinHash``) and
indexed in a ``MinHashLSH`` at threshold 0.5. Every document queries the index;
a candidate pair is kept only if its estimated Jaccard (``MinHash.jaccard``) is
>= 0.5. Kept pairs are written as near-duplicates; clusters are the connected
components of the pairs (cluster id = smallest doc id in the component; every
document is listed, singletons included).

Outputs (in ``-o``): ``pairs.jsonl`` ({"a","b","kind","jaccard"}, a < b) and
``clusters.jsonl`` ({"id","cluster"}). With ``--score GOLD_DIR`` the shared scorer
is run and a compact result (P/R/F1, recall at gold Jaccard < 0.2, boilerplate-only
false positives, ARI, stage timings, versions) is written to ``--result``
(default bench/results/baseline_datasketch.json).

Deterministic (fixed MinHash seed 1), no network.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import datasketch
from datasketch import LeanMinHash, MinHash, MinHashLSH

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"  # ../shared beside the repository
DEFAULT_CORPUS = str(SHARED / "bench" / "dev-reuters" / "corpus.jsonl")
DEFAULT_SCORER = str(SHARED / "bench" / "score.py")
WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 5) -> set[bytes]:
    """Lowercased word n-gram shingles, utf-8 encoded (one shingle of all words if < n words)."""
    words = WORD.findall(text.lower())
    if len(words) < n:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i:i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


def read_corpus(path: str) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            ids.append(str(r["id"]))
            texts.append(r["text"])
    return ids, texts


def components(ids: list[str], pairs) -> dict[str, str]:
    """Union-find; representative = smallest id (string order) of the component."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return {i: find(i) for i in ids}


def run(corpus: str, out_dir: Path, threshold: float, num_perm: int, ngram: int) -> dict:
    t0 = time.perf_counter()
    ids, texts = read_corpus(corpus)
    t_read = time.perf_counter()
    sh = [list(shingles(t, ngram)) for t in texts]   # MinHash is order-free: result is deterministic
    t_sh = time.perf_counter()
    mhs = [LeanMinHash(m) for m in MinHash.generator(sh, num_perm=num_perm, seed=1)]
    t_mh = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for key, m in zip(ids, mhs):
            session.insert(key, m, check_duplication=False)
    index = {k: i for i, k in enumerate(ids)}
    pairs: dict[tuple[str, str], float] = {}
    n_candidates = 0
    for i, key in enumerate(ids):
        for other in lsh.query(mhs[i]):
            if other <= key:           # each unordered pair once (and never self)
                continue
            n_candidates += 1
            est = mhs[i].jaccard(mhs[index[other]])
            if est >= threshold:
                pairs[(key, other)] = est
    t_lsh = time.perf_counter()

    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "pairs.jsonl", "w", encoding="utf-8") as f:
        for (a, b), est in sorted(pairs.items()):
            f.write(json.dumps({"a": a, "b": b, "kind": "near-duplicate", "jaccard": round(est, 4)}) + "\n")
    comp = components(ids, pairs)
    with open(out_dir / "clusters.jsonl", "w", encoding="utf-8") as f:
        for i in ids:
            f.write(json.dumps({"id": i, "cluster": comp[i]}) + "\n")
    t_end = time.perf_counter()
    return dict(
        n_docs=len(ids), n_candidates=n_candidates, n_pairs=len(pairs),
        n_clusters_multi=len({c for i, c in comp.items() if c != i}),
        timings=dict(read=round(t_read - t0, 3), shingling=round(t_sh - t_read, 3),
                     minhash=round(t_mh - t_sh, 3), lsh=round(t_lsh - t_mh, 3),
                     write=round(t_end - t_lsh, 3), total=round(t_end - t0, 3)),
    )


def score(gold: str, out_dir: Path, scorer: str) -> dict:
    cmd = [sys.executable, scorer, gold, str(out_dir / "pairs.jsonl"),
           "--clusters", str(out_dir / "clusters.jsonl"), "--json-only"]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="JSONL corpus with id/text (default: %(default)s)")
    ap.add_argument("-o", "--out", default=str(HERE / "results" / "tmp" / "datasketch"),
                    help="output directory for pairs.jsonl / clusters.jsonl (default: %(default)s)")
    ap.add_argument("--score", metavar="GOLD_DIR", help="score with the shared scorer against this gold dir")
    ap.add_argument("--scorer", default=DEFAULT_SCORER, help="scorer script (default: %(default)s)")
    ap.add_argument("--result", default=str(HERE / "results" / "baseline_datasketch.json"),
                    help="compact result JSON written when --score is given (default: %(default)s)")
    ap.add_argument("--threshold", type=float, default=0.5, help="LSH threshold and est. Jaccard cut (default 0.5)")
    ap.add_argument("--num-perm", type=int, default=128, help="MinHash permutations (default 128)")
    ap.add_argument("--ngram", type=int, default=5, help="word n-gram size (default 5)")
    args = ap.parse_args(argv)

    out_dir = Path(args.out)
    info = run(args.corpus, out_dir, args.threshold, args.num_perm, args.ngram)
    t = info["timings"]
    if not args.score:
        print(f"datasketch t={args.threshold} perms={args.num_perm}: {info['n_docs']} docs, "
              f"{info['n_pairs']} pairs ({info['n_candidates']} candidates), {t['total']:.1f}s -> {out_dir}")
        return 0

    s = score(args.score, out_dir, args.scorer)
    result = dict(
        baseline=f"datasketch MinHashLSH t={args.threshold}, {args.num_perm} perms, "
                 f"word {args.ngram}-grams, est. J >= t",
        corpus=os.path.abspath(args.corpus), gold=os.path.abspath(args.score),
        precision=s["precision"], recall=s["recall"], f1=s["f1"],
        recall_jaccard5_lt_0_2=s["recall_by_jaccard5"].get("<0.2", {}).get("recall"),
        recall_by_jaccard5={k: v["recall"] for k, v in s["recall_by_jaccard5"].items()},
        fp_boilerplate_only=s["fp_boilerplate_only"],
        passage_f1=s["passage"]["f1"],
        ari=s["ari_clusters"],
        tp=s["tp"], fp=s["fp"], fn=s["fn"], n_pred_pairs=s["n_pred_pairs"],
        n_candidates=info["n_candidates"],
        timings_s=dict(shingling=t["shingling"], minhash=t["minhash"], lsh=t["lsh"], total=t["total"]),
        n_docs=info["n_docs"],
        versions=dict(python=platform.python_version(), datasketch=datasketch.__version__),
    )
    rp = Path(args.result)
    rp.parent.mkdir(parents=True, exist_ok=True)
    rp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"datasketch t={args.threshold}: P={result['precision']:.3f} R={result['recall']:.3f} "
          f"F1={result['f1']:.3f} R(J5<0.2)={result['recall_jaccard5_lt_0_2']:.3f} "
          f"bpFP={result['fp_boilerplate_only']} ARI={result['ari']:.3f} "
          f"time={t['total']:.1f}s ({info['n_docs']} docs) -> {rp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
