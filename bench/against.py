#!/usr/bin/env python3
"""``doublet find NEW --against REFERENCE`` beside a full ``find`` over both: same cross pairs, less work.

Three measurements (each run is a ``doublet find`` in its own process, so times and peak memory are its own):

* ``clough`` — Clough & Stevenson: the 95 answers (NEW) against the 5 task sources (REFERENCE), beside ``find``
  on all 100 texts: the decisions on every answer x source pair (reported or not, kind, level) must be equal;
  also the accuracy of "reported with its own task's source" against the corpus labels (reuse = cut, light,
  heavy; non).
* ``halves`` — dev-reuters split in two (every other document NEW): ``--against`` must report exactly the cross
  pairs of a full ``find`` (pairs.jsonl lines equal); counts of pair occurrences, candidates, time and memory.
* ``scale`` — ``--new FILE --reference FILE [--new-docs N]``: the first N documents of NEW against REFERENCE
  beside a full ``find`` over REFERENCE + those N (the 1M-document measurement; not run by default).

Writes ``bench/results/against.json`` and ``.md`` (``--out``).

    python bench/against.py                          # clough + halves
    python bench/against.py scale --new eval.jsonl --reference crawl.jsonl --new-docs 1000 --out bench/results/against-1m
"""
from __future__ import annotations

import argparse
import csv
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
CLOUGH = SHARED / "data" / "clough-stevenson-plagiarism"
REUTERS = SHARED / "bench" / "dev-reuters" / "corpus.jsonl"
sys.path.insert(0, str(HERE))
from clough_stevenson import read_text  # noqa: E402


def find(args: list[str], out: Path) -> dict:
    """One ``doublet find`` in its own process: its summary, with the wall time measured here."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "doublet.cli", "find", "-q", *args, "-o", str(out)], check=True)
    summary = json.loads((out / "summary.json").read_text())
    summary["wall_s"] = round(time.perf_counter() - t, 2)
    return summary


def figures(s: dict) -> dict:
    c = s["candidates"]
    return {"documents": s["counts"]["documents"], "pairs": s["counts"]["pairs"],
            "pair_occurrences": c["pair_occurrences"], "candidates_lsh": c["lsh"], "candidates_fingerprint": c["fingerprint"],
            "compared": c["compared"], "total_s": s["timings_s"]["total"], "wall_s": s["wall_s"],
            "peak_rss_mb": s.get("peak_rss_mb")}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def cross_lines(pairs: Path, new_ids: set[str]) -> list[str]:
    """The pairs.jsonl lines with exactly one document in ``new_ids``."""
    out = []
    for line in pairs.read_text(encoding="utf-8").splitlines():
        p = json.loads(line)
        if (p["a"] in new_ids) != (p["b"] in new_ids):
            out.append(line)
    return out


def compare_runs(tmp: Path, new: list[dict], ref: list[dict], name: str) -> tuple[dict, dict, list[str], list[str]]:
    """Full find over NEW + REFERENCE and find NEW --against REFERENCE (files in ``tmp``)."""
    new_path, ref_path = write_jsonl(tmp / f"{name}-new.jsonl", new), write_jsonl(tmp / f"{name}-ref.jsonl", ref)
    full_path = write_jsonl(tmp / f"{name}-all.jsonl", new + ref)
    full = find([str(full_path)], tmp / f"{name}-full")
    against = find([str(new_path), "--against", str(ref_path)], tmp / f"{name}-against")
    new_ids = {r["id"] for r in new}
    return (full, against, cross_lines(tmp / f"{name}-full" / "pairs.jsonl", new_ids),
            (tmp / f"{name}-against" / "pairs.jsonl").read_text(encoding="utf-8").splitlines())


def clough(tmp: Path) -> dict:
    rows = [r for r in csv.DictReader(open(CLOUGH / "file_information.csv", encoding="utf-8", newline=""))
            if r["Category"] != "orig"]  # the 95 answers (the sources are listed too)
    answers = [{"id": r["File"], "text": read_text(CLOUGH / "texts" / r["File"])} for r in rows]
    sources = [{"id": f"orig_task{t}.txt", "text": read_text(CLOUGH / "texts" / f"orig_task{t}.txt")}
               for t in sorted({r["Task"] for r in rows})]
    full, against, cross, got = compare_runs(tmp, answers, sources, "clough")

    def decisions(lines: list[str]) -> dict[tuple[str, str], tuple]:
        out = {}
        for line in lines:
            p = json.loads(line)
            a, s = (p["a"], p["b"]) if p["b"].startswith("orig_") else (p["b"], p["a"])
            out[(a, s)] = (p["kind"], p["level"])
        return out

    want, have = decisions(cross), decisions(got)
    grid = [(r["File"], f"orig_task{r['Task']}.txt") for r in rows]
    every = [(a["id"], s["id"]) for a in answers for s in sources]
    same = sum(want.get(k) == have.get(k) for k in every)
    labelled = {r["File"]: r["Category"] for r in rows}
    correct = sum(((k in have) == (labelled[k[0]] != "non")) for k in grid)
    return {"answers": len(answers), "sources": len(sources), "answer_source_pairs": len(every),
            "same_decisions": same, "identical_pairs_jsonl": cross == got, "reported": len(have),
            "reported_with_own_source": sum(k in have for k in grid),
            "accuracy_reuse_vs_non_own_source": round(correct / len(grid), 4),
            "full": figures(full), "against": figures(against)}


def index_query(tmp: Path, name: str, against_pairs: list[str]) -> dict:
    """The same check with the persistent index: ``index add`` REFERENCE, then ``index query`` NEW in bulk; which
    (NEW, REFERENCE) pairs it reports beside ``--against``'s (each query is answered as if it alone were added
    to the index, so document frequencies differ a little from a run over both groups)."""
    idx, times = tmp / f"{name}.idx", {}
    for step, cmd in (("create", ["create", str(idx)]), ("add", ["add", "-q", str(idx), str(tmp / f"{name}-ref.jsonl")]),
                      ("query", ["query", "-q", str(idx), str(tmp / f"{name}-new.jsonl"), "-o", str(tmp / f"{name}-q")])):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "doublet.cli", "index", *cmd], check=True)
        times[step] = round(time.perf_counter() - t, 2)
    got = {(m["query"], m["match"]) for m in map(json.loads, open(tmp / f"{name}-q" / "matches.jsonl"))}
    want = set()
    new_ids = {json.loads(line)["id"] for line in open(tmp / f"{name}-new.jsonl", encoding="utf-8")}
    for line in against_pairs:
        p = json.loads(line)
        want.add((p["a"], p["b"]) if p["a"] in new_ids else (p["b"], p["a"]))
    return {"add_s": times["add"], "query_s": times["query"], "pairs": len(got), "same_as_against": len(got & want),
            "only_index": len(got - want), "only_against": len(want - got)}


def halves(tmp: Path, step: int = 2) -> dict:
    """dev-reuters: every ``step``-th document NEW, the others REFERENCE."""
    rows = [json.loads(line) for line in open(REUTERS, encoding="utf-8")]
    new = rows[0::step]
    ref = [r for k, r in enumerate(rows) if k % step]
    full, against, cross, got = compare_runs(tmp, new, ref, f"reuters-{step}")
    return {"new": len(new), "reference": len(ref), "cross_pairs_full": len(cross), "pairs_against": len(got),
            "identical_cross_pairs": cross == got, "full": figures(full), "against": figures(against),
            "index": index_query(tmp, f"reuters-{step}", got)}


def scale(tmp: Path, new_path: Path, ref_path: Path, n_new: int) -> dict:
    new = tmp / "scale-new.jsonl"
    with open(new_path, encoding="utf-8") as src, open(new, "w", encoding="utf-8") as dst:
        for _, line in zip(range(n_new), src):
            dst.write(line)
    against = find([str(new), "--against", str(ref_path)], tmp / "scale-against")
    full = find([str(new), str(ref_path)], tmp / "scale-full")
    new_ids = {json.loads(line)["id"] for line in open(new, encoding="utf-8")}
    cross = cross_lines(tmp / "scale-full" / "pairs.jsonl", new_ids)
    got = (tmp / "scale-against" / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    return {"new": n_new, "reference": str(ref_path), "identical_cross_pairs": cross == got,
            "cross_pairs": len(cross), "full": figures(full), "against": figures(against)}


def markdown(res: dict) -> str:
    out = ["# find --against beside a full find", "",
           "| set | NEW | REFERENCE | cross pairs identical | pairs | pair occurrences (full / against) | "
           "time s (full / against) | peak RSS MB (full / against) |", "|---|---|---|---|---|---|---|---|"]
    for name, r in res["runs"].items():
        f, a = r["full"], r["against"]
        same = r.get("identical_cross_pairs", r.get("identical_pairs_jsonl"))
        out.append(f"| {name} | {r.get('new', r.get('answers'))} | {r.get('reference', r.get('sources'))} | {same} | "
                   f"{a['pairs']} | {f['pair_occurrences']:,} / {a['pair_occurrences']:,} | {f['wall_s']} / "
                   f"{a['wall_s']} | {f['peak_rss_mb']} / {a['peak_rss_mb']} |")
    for name, r in res["runs"].items():
        if "index" in r:
            i = r["index"]
            out += ["", f"{name}, with the index instead (`index add` REFERENCE {i['add_s']} s, `index query` NEW "
                        f"{i['query_s']} s): {i['pairs']} pairs, {i['same_as_against']} of them --against's, "
                        f"{i['only_index']} only in the index's answer, {i['only_against']} only in --against's."]
    if "clough" in res["runs"]:
        c = res["runs"]["clough"]
        out += ["", f"Clough & Stevenson: {c['same_decisions']} of {c['answer_source_pairs']} answer x source "
                    f"decisions equal to find's on all 100 texts; {c['reported_with_own_source']} answers reported "
                    f"with their own task's source (accuracy reuse vs non: {c['accuracy_reuse_vs_non_own_source']})."]
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", nargs="*", default=["clough", "halves", "small"],
                    help="clough, halves, small (every 40th dev-reuters document against the rest), scale")
    ap.add_argument("--new", type=Path)
    ap.add_argument("--reference", type=Path)
    ap.add_argument("--new-docs", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "against")
    args = ap.parse_args()
    res: dict = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for what in args.what:
            if what == "clough":
                res["runs"]["clough"] = clough(Path(tmp))
            elif what == "halves":
                res["runs"]["dev-reuters halves"] = halves(Path(tmp))
            elif what == "small":
                res["runs"]["dev-reuters 1/40 against 39/40"] = halves(Path(tmp), 40)
            elif what == "scale":
                if not (args.new and args.reference):
                    ap.error("scale needs --new and --reference")
                res["runs"]["scale"] = scale(Path(tmp), args.new, args.reference, args.new_docs)
            else:
                ap.error(f"unknown measurement {what!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
