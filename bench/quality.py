#!/usr/bin/env python3
"""Quality of doublet beside the datasketch baseline, on every labelled set we have. One command:

    python bench/quality.py            # (or: make bench)

What it runs (all deterministic, default settings, no per-corpus tuning):

1. The three dev sets (../shared/bench/dev-reuters, dev-sites-small, dev-popular): ``doublet find
   corpus.jsonl`` through the command line (timed end to end on dev-reuters), and the datasketch MinHashLSH
   baseline (threshold 0.5, 128 permutations, word 5-grams; bench/baseline_datasketch.py); both scored by the
   benchmark's own ``score.py`` and by ``doublet eval``, which must agree on every number. Also source
   attribution on dev-reuters: in how many clusters that hold exactly one of the benchmark's original
   articles doublet marks that one as ``original``.
2. The two seed documents (examples/seeds): doublet's pair, and the baseline's verdict on it.
3. Clough & Stevenson (bench/clough_stevenson.py): containment per category and reuse-vs-non accuracy, and
   the datasketch baseline's verdict (estimated Jaccard >= 0.5) on the same answer/source pairs.
4. Web input (bench/extraction.py): extraction quality vs trafilatura's defaults, and the WARC sample.

Writes bench/results/quality.json and quality.md (the Markdown tables quoted in docs/quality.md) and prints them.
``--skip-extraction`` leaves step 4 out (it takes about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
GOLD = SHARED / "bench" / "dev-reuters"
DEV_SETS = ("dev-reuters", "dev-sites-small", "dev-popular")
SCORER = SHARED / "bench" / "score.py"
TMP = HERE / "results" / "tmp"


def sh(*args: str) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def score(pairs: Path, clusters: Path, gold: Path = GOLD) -> dict:
    """score.py's figures, checked against ``doublet eval`` on the same run (every number must agree)."""
    theirs = json.loads(sh(sys.executable, SCORER, gold, pairs, "--clusters", clusters, "--json-only"))
    ours = json.loads(sh(sys.executable, "-m", "doublet.cli", "eval", gold, pairs, "--quiet"))
    differ = [k for k, v in theirs.items() if k not in ("gold_dir", "pred") and ours.get(k) != v]
    if differ:
        raise SystemExit(f"doublet eval disagrees with score.py on {differ}")
    return theirs


def attribution(out: Path) -> dict:
    """Clusters holding exactly one of the benchmark's original articles: how often that one is marked original."""
    role = {r["id"]: r.get("role") for r in map(json.loads, (GOLD / "doc_meta.jsonl").open(encoding="utf-8"))}
    members: dict[str, list[dict]] = {}
    for r in map(json.loads, (out / "clusters.jsonl").open(encoding="utf-8")):
        members.setdefault(r["cluster"], []).append(r)
    judged = right = 0
    for rows in members.values():
        origs = [r for r in rows if role.get(r["id"]) == "original"]
        if len(rows) > 1 and len(origs) == 1:
            judged += 1
            right += origs[0]["original"]
    multi = sum(1 for rows in members.values() if len(rows) > 1)
    return {"clusters_with_reuse": multi, "clusters_with_one_original": judged, "original_found": right,
            "accuracy": round(right / judged, 4) if judged else None,
            "chance": round(sum(1 / len(rows) for rows in members.values() if len(rows) > 1 and
                                sum(role.get(r["id"]) == "original" for r in rows) == 1) / judged, 4)
            if judged else None}


def doublet_dev(name: str, runs: int) -> dict:
    """doublet on one dev set (``runs`` timed runs; the last one is scored)."""
    gold = SHARED / "bench" / name
    out = TMP / f"doublet-{name}"
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        sh(sys.executable, "-m", "doublet.cli", "find", gold / "corpus.jsonl", "-o", out, "--quiet")
        walls.append(time.perf_counter() - t)
    s = score(out / "pairs.jsonl", out / "clusters.jsonl", gold)
    summary = json.loads((out / "summary.json").read_text())
    walls.sort()
    return {"score": s, "wall_s_runs": [round(w, 2) for w in walls], "wall_s_median": round(walls[len(walls) // 2], 2),
            "workers": summary["workers"], "timings_s": summary["timings_s"], "counts": summary["counts"],
            "templates": summary.get("templates"), "eval_equals_score_py": True,
            "attribution": attribution(out) if gold == GOLD else None}


def baseline_dev(name: str) -> dict:
    gold = SHARED / "bench" / name
    out = TMP / f"datasketch-{name}"
    res = HERE / "results" / ("baseline_datasketch.json" if gold == GOLD else f"baseline_datasketch-{name}.json")
    sh(sys.executable, HERE / "baseline_datasketch.py", "--corpus", gold / "corpus.jsonl", "-o", out, "--score", gold,
       "--result", res)
    return {"score": score(out / "pairs.jsonl", out / "clusters.jsonl", gold), "result": json.loads(res.read_text())}


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


def clough_datasketch(cl: dict) -> dict:
    """The baseline on the Clough & Stevenson pairs: MinHash (128 perms, word 5-grams) estimated J >= 0.5."""
    sys.path.insert(0, str(HERE))
    from baseline_datasketch import shingles  # noqa: E402
    from clough_stevenson import read_text  # noqa: E402
    from datasketch import MinHash  # noqa: E402

    texts = Path(cl["data"]) / "texts"

    def sketch(text: str) -> MinHash:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(list(shingles(text)))
        return m

    sources = {t: sketch(read_text(texts / f"orig_task{t}.txt")) for t in "abcde"}
    reported: dict[str, int] = {c: 0 for c in ("cut", "light", "heavy", "non")}
    correct = 0
    for a in cl["per_answer"]:
        hit = sketch(read_text(texts / a["file"])).jaccard(sources[a["task"]]) >= 0.5
        reported[a["category"]] += hit
        correct += hit == (a["category"] != "non")
    return {"reported": reported, "accuracy": round(correct / len(cl["per_answer"]), 4), "correct": correct,
            "n": len(cl["per_answer"])}


def row(name: str, s: dict, extra: str = "") -> str:
    pf = s["passage"]["f1"]
    return (f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
            f"{s['recall_by_jaccard5']['<0.2']['recall']:.3f} | {s['fp_boilerplate_only']} | "
            f"{'–' if pf is None else f'{pf:.3f}'} | {s['ari_clusters']:.3f} |{extra}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="timed doublet runs on dev-reuters (median reported)")
    ap.add_argument("--skip-extraction", action="store_true", help="leave out the web-input step (bench/extraction.py)")
    args = ap.parse_args(argv)
    if not (GOLD / "corpus.jsonl").exists():
        ap.error(f"{GOLD} not found: ../shared must sit beside the repository")
    TMP.mkdir(parents=True, exist_ok=True)

    dev = {name: {"doublet": doublet_dev(name, args.runs if name == "dev-reuters" else 1),
                  "datasketch": baseline_dev(name)} for name in DEV_SETS}
    d, b = dev["dev-reuters"]["doublet"], dev["dev-reuters"]["datasketch"]
    sd = seeds()
    cl = clough()
    cd = clough_datasketch(cl)
    web_md = None
    if not args.skip_extraction:
        sys.path.insert(0, str(HERE))
        import extraction  # noqa: E402

        web_md = extraction.run()[1]
    result = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
              "dev_reuters": dev["dev-reuters"], "dev": dev, "seeds": sd, "clough_stevenson": {
                  **{k: cl[k] for k in cl if k not in ("rows", "answers", "per_answer")}, "datasketch": cd}}
    (HERE / "results" / "quality.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    md = markdown(dev, sd, cl, cd, args.runs)
    if web_md is not None:
        md += "\n" + web_md
    (HERE / "results" / "quality.md").write_text(md)
    print(md, end="")
    return 0


def markdown(dev: dict, sd: dict, cl: dict, cd: dict, runs: int) -> str:
    """The quality tables of docs/quality.md."""
    d, b = dev["dev-reuters"]["doublet"], dev["dev-reuters"]["datasketch"]
    at = d["attribution"]
    lines = ["| set | system | P | R | F1 | R at J5 < 0.2 | boilerplate-only FPs | passage F1 | ARI |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, runs_of in dev.items():
        docs = runs_of["doublet"]["counts"]["documents"]
        lines += [row(f"{name} ({docs:,} docs) | doublet (defaults)", runs_of["doublet"]["score"]),
                  row(f"{name} | datasketch MinHashLSH t=0.5, 128 perms, word 5-grams", runs_of["datasketch"]["score"])]
    lines += ["",
             f"doublet wall time on dev-reuters ({d['counts']['documents']} docs, "
             f"{d['counts']['characters'] / 1e6:.1f} M chars): median {d['wall_s_median']} s of {runs} runs "
             f"{d['wall_s_runs']} with {d['workers']} workers; datasketch baseline "
             f"{b['result']['timings_s']['total']} s. `doublet eval` gives score.py's figures on both runs.", "",
             f"Source attribution on dev-reuters: in {at['original_found']} of the {at['clusters_with_one_original']} "
             f"clusters that hold exactly one original Reuters article, doublet marks it `original` "
             f"({at['accuracy']:.3f}; picking a member at random: {at['chance']:.3f}); no dates, so by most reused text.",
             ""]
    p = sd["doublet_pairs"]
    lines.append("seeds: doublet reports " + f"{len(p)} pair(s): " + "; ".join(
        f"{x['kind']} J={x['jaccard']} C_a={x['containment_a']} C_b={x['containment_b']} passages={len(x['passages'])}"
        for x in p) + f"; datasketch estimated J={sd['datasketch_estimated_jaccard']} -> "
        f"{'pair' if sd['datasketch_pair'] else 'no pair'} at t=0.5")
    lines += ["", "| Clough & Stevenson | cut | light | heavy | non | reuse vs non accuracy |", "|---|---|---|---|---|---|"]
    c = cl["categories"]
    lines.append("| doublet (default Config), pairs reported | " + " | ".join(
        f"{c[k]['reported']}/{c[k]['n']}" for k in ("cut", "light", "heavy", "non"))
        + f" | {cl['doublet_decision']['accuracy']:.3f} |")
    lines.append("| datasketch MinHash est. J >= 0.5 | " + " | ".join(
        f"{cd['reported'][k]}/{c[k]['n']}" for k in ("cut", "light", "heavy", "non")) + f" | {cd['accuracy']:.3f} |")
    lines += ["", sh(sys.executable, HERE / "clough_stevenson.py", "--out", TMP / "clough.json").rsplit("\n\n", 1)[0]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
