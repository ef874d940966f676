#!/usr/bin/env python3
"""Quality of doublet beside the datasketch baseline, on every labelled set we have. One command:

    python bench/quality.py            # (or: make bench)

What it runs (all deterministic, default settings, no per-corpus tuning):

1. dev-reuters (../shared/bench/dev-reuters): ``doublet find corpus.jsonl`` through the command line, timed
   end to end, and the datasketch MinHashLSH baseline (threshold 0.5, 128 permutations, word 5-grams;
   bench/baseline_datasketch.py); both scored by the benchmark's own ``score.py``.
2. The two seed documents (examples/seeds): doublet's pair, and the baseline's verdict on it.
3. Clough & Stevenson (bench/clough_stevenson.py): containment per category and reuse-vs-non accuracy.

Writes bench/results/quality.json and prints the Markdown tables quoted in the README.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
GOLD = SHARED / "bench" / "dev-reuters"
SCORER = SHARED / "bench" / "score.py"
TMP = HERE / "results" / "tmp"


def sh(*args: str) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def score(pairs: Path, clusters: Path) -> dict:
    return json.loads(sh(sys.executable, SCORER, GOLD, pairs, "--clusters", clusters, "--json-only"))


def doublet_dev_reuters(runs: int) -> dict:
    out = TMP / "doublet-dev-reuters"
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        sh(sys.executable, "-m", "doublet.cli", "find", GOLD / "corpus.jsonl", "-o", out, "--quiet")
        walls.append(time.perf_counter() - t)
    s = score(out / "pairs.jsonl", out / "clusters.jsonl")
    summary = json.loads((out / "summary.json").read_text())
    walls.sort()
    return {"score": s, "wall_s_runs": [round(w, 2) for w in walls], "wall_s_median": round(walls[len(walls) // 2], 2),
            "workers": summary["workers"], "timings_s": summary["timings_s"], "counts": summary["counts"]}


def baseline_dev_reuters() -> dict:
    out = TMP / "datasketch"
    res = HERE / "results" / "baseline_datasketch.json"
    sh(sys.executable, HERE / "baseline_datasketch.py", "-o", out, "--score", GOLD, "--result", res)
    return {"score": score(out / "pairs.jsonl", out / "clusters.jsonl"), "result": json.loads(res.read_text())}


def seeds() -> dict:
    out = TMP / "doublet-seeds"
    sh(sys.executable, "-m", "doublet.cli", "find", ROOT / "examples" / "seeds", "-o", out, "--quiet")
    pairs = [json.loads(x) for x in (out / "pairs.jsonl").read_text().splitlines()]
    # the baseline on the same two texts: estimated Jaccard vs its 0.5 threshold
    sys.path.insert(0, str(HERE))
    from baseline_datasketch import shingles  # noqa: E402
    from datasketch import MinHash  # noqa: E402

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples" / "seeds").glob("*.txt"))]
    mh = []
    for t in texts:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(list(shingles(t)))
        mh.append(m)
    est = mh[0].jaccard(mh[1])
    return {"doublet_pairs": pairs, "datasketch_estimated_jaccard": round(est, 3), "datasketch_pair": est >= 0.5}


def clough() -> dict:
    out = HERE / "results" / "clough_stevenson.json"
    sh(sys.executable, HERE / "clough_stevenson.py", "--out", out)
    return json.loads(out.read_text())


def row(name: str, s: dict, extra: str = "") -> str:
    pf = s["passage"]["f1"]
    return (f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
            f"{s['recall_by_jaccard5']['<0.2']['recall']:.3f} | {s['fp_boilerplate_only']} | "
            f"{'–' if pf is None else f'{pf:.3f}'} | {s['ari_clusters']:.3f} |{extra}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="timed doublet runs on dev-reuters (median reported)")
    args = ap.parse_args(argv)
    if not (GOLD / "corpus.jsonl").exists():
        ap.error(f"{GOLD} not found: ../shared must sit beside the repository")
    TMP.mkdir(parents=True, exist_ok=True)

    d = doublet_dev_reuters(args.runs)
    b = baseline_dev_reuters()
    sd = seeds()
    cl = clough()
    result = {"machine": {"python": platform.python_version(), "platform": platform.platform()},
              "dev_reuters": {"doublet": d, "datasketch": b}, "seeds": sd, "clough_stevenson": {
                  k: cl[k] for k in cl if k not in ("rows", "answers")}}
    (HERE / "results" / "quality.json").write_text(json.dumps(result, indent=1, default=str) + "\n")

    print("| system | P | R | F1 | R at J5 < 0.2 | boilerplate-only FPs | passage F1 | ARI |")
    print("|---|---|---|---|---|---|---|---|")
    print(row("doublet (defaults)", d["score"]))
    print(row("datasketch MinHashLSH t=0.5, 128 perms, word 5-grams", b["score"]))
    print(f"\ndoublet wall time on dev-reuters ({d['counts']['documents']} docs, "
          f"{d['counts']['characters'] / 1e6:.1f} M chars): median {d['wall_s_median']} s of {args.runs} runs "
          f"{d['wall_s_runs']} with {d['workers']} workers; datasketch baseline "
          f"{b['result']['timings_s']['total']} s.")
    p = sd["doublet_pairs"]
    print(f"\nseeds: doublet reports {len(p)} pair(s): " + "; ".join(
        f"{x['kind']} J={x['jaccard']} C_a={x['containment_a']} C_b={x['containment_b']} passages={len(x['passages'])}"
        for x in p) + f"; datasketch estimated J={sd['datasketch_estimated_jaccard']} -> "
          f"{'pair' if sd['datasketch_pair'] else 'no pair'} at t=0.5")
    print()
    print(sh(sys.executable, HERE / "clough_stevenson.py", "--out", TMP / "clough.json").rsplit("\n\n", 1)[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
