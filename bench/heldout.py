#!/usr/bin/env python3
"""Build the held-out benchmark suite and (optionally) score a doublet build on it.

    python bench/heldout.py                       # build missing sets into bench/results/tmp/heldout/
    python bench/heldout.py --run                 # ... and run .venv/bin/doublet find on each, score, report
    python bench/heldout.py --run --doublet /path/to/doublet --doublet-args "--max-df 50" --only h-bbc-mixed-3k

Sets (fixed arguments, so every checkout builds the same folders):

* ``h-*``: ``bench/make_reprints.py`` corpora -- other material, other templates, other mode mix than the
  dev sets (see that module's docstring);
* ``s-*``: scale sets from ``bench/embed_corpus.py`` -- a labelled set inside 10-100x filler. Each is also
  run on its labelled documents alone ("small run"), and the predicted pairs among labelled documents that
  differ between the small and the big run are listed: a system whose decisions depend on corpus size
  changes them.

Scoring is the benchmark's own ``score.py`` (``--shared``/``$DOUBLET_SHARED``, default ``/work/shared``).
Writes ``bench/results/heldout.md`` (table) and ``bench/results/heldout.json`` (everything, including
per-set recall by mode and the scale diffs). For sets with sister-site networks, false positives between
two sites of one network that both carry chrome are counted separately (``network_boilerplate_fps``):
score.py files them under ``different_site``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import embed_corpus  # noqa: E402
import make_reprints  # noqa: E402

ROOT = BENCH.parent
DEFAULT_OUT = BENCH / "results" / "tmp" / "heldout"
DEFAULT_SHARED = Path(os.environ.get("DOUBLET_SHARED", "/work/shared"))


@dataclass
class HeldSet:
    """One set of the suite: a make_reprints.py corpus (``gen``) or an embedding (``embed``)."""

    name: str
    what: str
    gen: dict[str, Any] | None = None
    embed: dict[str, Any] | None = None   # gold: dev set name ("dev-...") or suite set name; filler; factor


SUITE: list[HeldSet] = [
    HeldSet("h-reuters-nav-300", "Reuters sources, navigation chrome, 15 sites of ~20 pages",
            gen=dict(pool="reuters", docs=300, seed=13, sites=15, template_style="nav")),
    HeldSet("h-20ng-prose-800", "cleaned 20 Newsgroups posts, prose-shaped chrome only (hardest boilerplate)",
            gen=dict(pool="20ng", docs=800, seed=12, sites=12, template_style="prose")),
    HeldSet("h-bbc-mixed-3k", "BBC News, mixed template styles, 30 sites (Zipf sizes)",
            gen=dict(pool="bbc", docs=3000, seed=11, sites=30, template_style="mixed")),
    HeldSet("h-mixed-network-1500", "all pools, 40 % of sites are sister sites sharing chrome",
            gen=dict(pool="mixed", docs=1500, seed=17, sites=20, template_style="mixed", networks=0.4)),
    HeldSet("h-mixed-devlike-2k", "all pools, dev-like footer (truncated headline list) for comparison",
            gen=dict(pool="mixed", docs=2000, seed=16, sites=30, template_style="devlike")),
    HeldSet("h-mixed-popular-5k", "all pools, 2 stories reprinted ~150 times each",
            gen=dict(pool="mixed", docs=5000, seed=14, sites=40, template_style="mixed", popular=2,
                     popular_copies=150)),
    HeldSet("h-bbc-prose-25k", "BBC sources (x3 copies: the pool is small), prose chrome, 300 sites (Zipf: "
            "~20 to ~2,000 pages)", gen=dict(pool="bbc", docs=25000, seed=15, sites=300, template_style="prose")),
    HeldSet("s-sites-small-x10", "dev-sites-small inside make_corpus.py filler, x10",
            embed=dict(gold="dev-sites-small", filler="makecorpus", factor=10, seed=21)),
    HeldSet("s-sites-small-x100", "dev-sites-small inside make_corpus.py filler, x100",
            embed=dict(gold="dev-sites-small", filler="makecorpus", factor=100, seed=22)),
    HeldSet("s-popular-x10", "dev-popular inside make_corpus.py filler, x10",
            embed=dict(gold="dev-popular", filler="makecorpus", factor=10, seed=23)),
    HeldSet("s-reuters-real", "dev-reuters inside all real Reuters-21578 + 20NG + BBC texts (x6.1)",
            embed=dict(gold="dev-reuters", filler="real", seed=24)),
    HeldSet("s-20ng-prose-x10", "h-20ng-prose-800 inside make_corpus.py filler, x10",
            embed=dict(gold="h-20ng-prose-800", filler="makecorpus", factor=10, seed=25)),
]


# ------------------------------------------------------------------------------------------ build


def gold_dir(name: str, out: Path, shared: Path) -> Path:
    return shared / "bench" / name if name.startswith("dev-") else out / name


def _built_with(folder: Path, spec: dict[str, Any]) -> bool:
    """Whether ``folder`` holds a complete build made with exactly ``spec``."""
    f = folder / "build.json"
    if not f.is_file():
        return False
    try:
        return json.loads(f.read_text())["spec"] == spec
    except (ValueError, KeyError):
        return False


def code_digest() -> str:
    """Digest of the generator sources: a build is reused only if they did not change."""
    h = hashlib.blake2b(digest_size=8)
    for f in ("make_reprints.py", "reprint_templates.py", "embed_corpus.py", "make_corpus.py"):
        h.update((BENCH / f).read_bytes())
    return h.hexdigest()


def build(s: HeldSet, out: Path, shared: Path, force: bool, log: bool = True) -> dict[str, Any]:
    """Build one set (unless an identical build is there); returns its build record."""
    folder = out / s.name
    spec = dict(gen=s.gen, embed=s.embed, generator_version=make_reprints.VERSION, code=code_digest())
    if not force and _built_with(folder, spec):
        return json.loads((folder / "build.json").read_text())
    t0 = time.perf_counter()
    if log:
        print(f"heldout: building {s.name} ...", file=sys.stderr, flush=True)
    if s.gen is not None:
        args = make_reprints.Args(out=folder, data=shared / "data", quiet=True, **s.gen)
        meta = make_reprints.generate(args)
        c = meta["counts"]
        rec = dict(docs=c["docs"], labelled_docs=c["docs"], gold_pairs=c["gold_pairs"],
                   ignore_pairs=sum(c["ignore_pairs"].values()), sites=len(meta["sites"]),
                   roles=c["roles"], copy_modes=c["copy_modes"], jaccard5_buckets=c["jaccard5_buckets"],
                   largest_cluster=max(int(k) for k in c["cluster_size_hist"]))
    else:
        e = dict(s.embed)
        g = gold_dir(e.pop("gold"), out, shared)
        if not g.name.startswith("dev-"):
            build(next(x for x in SUITE if x.name == g.name), out, shared, False, log)
        info = embed_corpus.embed(g, folder, e["filler"], e.get("factor", 10), e.get("seed", 1), shared / "data",
                                  workers=len(os.sched_getaffinity(0)))
        n_gold = sum(1 for _ in open(folder / "gold_pairs.jsonl", encoding="utf-8"))
        rec = dict(docs=info["total_docs"], labelled_docs=info["labelled_docs"], gold_pairs=n_gold,
                   filler_docs=info["filler_docs"], full_corpus_mb=info["full_corpus_mb"])
    rec.update(name=s.name, what=s.what, spec=spec, build_s=round(time.perf_counter() - t0, 1),
               corpus_mb=round(sum(os.path.getsize(folder / f) for f in ("corpus.jsonl", "full_corpus.jsonl")
                                   if (folder / f).is_file()) / 1e6, 1))
    (folder / "build.json").write_text(json.dumps(rec, indent=1) + "\n")
    return rec


# ------------------------------------------------------------------------------------------ run and score


def run_doublet(doublet: str, extra: list[str], inp: Path, out: Path) -> float:
    """``doublet find INPUT -o OUT -q`` (+ extra args); returns wall seconds."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([doublet, "find", str(inp), "-o", str(out), "-q", *extra], check=True)
    return round(time.perf_counter() - t0, 2)


def score(shared: Path, gold: Path, run: Path) -> dict[str, Any]:
    """score.py's JSON summary of a run."""
    res = subprocess.run([sys.executable, str(shared / "bench" / "score.py"), str(gold), str(run / "pairs.jsonl"),
                          "--clusters", str(run / "clusters.jsonl"), "--json-only"],
                         check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(ln) for ln in f if ln.strip()]


def labelled_pairs(run: Path, ids: set[str]) -> set[tuple[str, str]]:
    """Predicted pairs whose two documents are both labelled (a < b)."""
    out = set()
    with open(run / "pairs.jsonl", encoding="utf-8") as f:
        for ln in f:
            r = json.loads(ln)
            a, b = str(r["a"]), str(r["b"])
            if a in ids and b in ids and a != b:
                out.add((a, b) if a < b else (b, a))
    return out


def scale_diff(gold: Path, small: Path, big: Path) -> dict[str, Any]:
    """Predicted labelled pairs that differ between the small and the big run, by gold status."""
    ids = {r["id"] for r in read_jsonl(gold / "corpus.jsonl")}
    gp = {(r["a"], r["b"]) for r in read_jsonl(gold / "gold_pairs.jsonl")}
    ig = {(r["a"], r["b"]) for r in read_jsonl(gold / "ignore_pairs.jsonl")}
    ps, pb = labelled_pairs(small, ids), labelled_pairs(big, ids)

    def status(p: tuple[str, str]) -> str:
        return "gold" if p in gp else "ignore" if p in ig else "negative"
    lost = sorted(ps - pb)
    gained = sorted(pb - ps)
    return dict(small_pairs=len(ps), big_pairs=len(pb), same=len(ps & pb),
                lost=dict(Counter(map(status, lost))), gained=dict(Counter(map(status, gained))),
                lost_pairs=[[a, b, status((a, b))] for a, b in lost],
                gained_pairs=[[a, b, status((a, b))] for a, b in gained])


def network_fps(gold: Path, run: Path) -> int:
    """False positives between different sites of one network where both pages carry chrome."""
    meta = {r["id"]: r for r in read_jsonl(gold / "doc_meta.jsonl")}
    if not any(m.get("network") is not None for m in meta.values()):
        return 0
    gp = {(r["a"], r["b"]) for r in read_jsonl(gold / "gold_pairs.jsonl")}
    ig = {(r["a"], r["b"]) for r in read_jsonl(gold / "ignore_pairs.jsonl")}
    n = 0
    for a, b in labelled_pairs(run, set(meta)):
        if (a, b) in gp or (a, b) in ig:
            continue
        ma, mb = meta[a], meta[b]
        if ma.get("network") is not None and ma["network"] == mb.get("network") and ma["site"] != mb["site"] \
                and (ma["header"] or ma["footer"]) and (mb["header"] or mb["footer"]):
            n += 1
    return n


def summarize(sc: dict[str, Any]) -> dict[str, Any]:
    """The table's numbers from a score.py summary."""
    j = sc["recall_by_jaccard5"].get("<0.2", {})
    return dict(P=sc["precision"], R=sc["recall"], F1=sc["f1"], R_j5_lt_0_2=j.get("recall"),
                n_j5_lt_0_2=j.get("n"), fp=sc["fp"], fp_boilerplate_only=sc["fp_boilerplate_only"],
                fp_breakdown=sc["fp_breakdown"], passage_f1=sc["passage"]["f1"], ARI=sc["ari_clusters"],
                ARI_pairs=sc["ari_pair_components"],
                recall_by_mode=sc["recall_by_mode"], tp=sc["tp"], fn=sc["fn"])


def evaluate(s: HeldSet, out: Path, shared: Path, doublet: str, extra: list[str],
             small_runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run doublet on one built set and score it (scale sets: also the small run and the diff)."""
    folder = out / s.name
    runs = out / "runs"
    inp = folder / "full_corpus.jsonl" if (folder / "full_corpus.jsonl").is_file() else folder / "corpus.jsonl"
    print(f"heldout: doublet find {s.name} ...", file=sys.stderr, flush=True)
    t = run_doublet(doublet, extra, inp, runs / s.name)
    res: dict[str, Any] = dict(time_s=t, **summarize(score(shared, folder, runs / s.name)))
    res["network_boilerplate_fps"] = network_fps(folder, runs / s.name)
    if s.embed is not None:
        key = s.embed["gold"]
        small = runs / f"small-{key}"
        if key not in small_runs:
            ts = run_doublet(doublet, extra, folder / "corpus.jsonl", small)
            small_runs[key] = dict(time_s=ts, **summarize(score(shared, folder, small)))
        res["small"] = small_runs[key]
        res["scale_diff"] = scale_diff(folder, small, runs / s.name)
    return res


# ------------------------------------------------------------------------------------------ report


def _f(x: Any, nd: int = 3) -> str:
    return "–" if x is None else f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def report(records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """Markdown report: sets and sizes, scores, scale diffs."""
    lines = ["# Held-out sets: baseline scores", "",
             f"doublet: `{meta['doublet']}` {meta.get('doublet_args') or ''} · version {meta.get('doublet_version')} · "
             f"worktree commit {meta.get('commit')} · {meta['date']}", "",
             "Sets are built by `python bench/heldout.py` (`bench/make_reprints.py`, `bench/embed_corpus.py`) into "
             "`bench/results/tmp/heldout/`; scores are the benchmark's `score.py`. `R<.2` = recall of gold pairs with "
             "word 5-gram Jaccard < 0.2; `BP FPs` = false positives between pages of one site that both carry its "
             "chrome (score.py's `same_site_boilerplate_only`); `net FPs` = false positives between sister sites "
             "of a network. `ARI` is from clusters.jsonl, `ARI pc` from the connected components of the predicted "
             "pairs among labelled documents (on scale sets, filler documents can join labelled clusters in "
             "clusters.jsonl). Scale sets score only the labelled pairs; `small run` = the labelled documents alone. "
             "`time s` = wall time of `doublet find`.", "",
             "| set | docs | gold pairs | P | R | F1 | R<.2 | FPs | BP FPs | net FPs | passage F1 | ARI | ARI pc | time s "
             "| build s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        b, e = r["build"], r.get("eval")
        docs = f"{b['docs']:,}" if b["docs"] == b["labelled_docs"] else f"{b['labelled_docs']:,} in {b['docs']:,}"
        if e:
            lines.append(f"| {r['name']} | {docs} | {b['gold_pairs']:,} | {_f(e['P'])} | {_f(e['R'])} | {_f(e['F1'])} | "
                         f"{_f(e['R_j5_lt_0_2'])} | {e['fp']:,} | {e['fp_boilerplate_only']:,} | "
                         f"{e['network_boilerplate_fps']:,} | {_f(e['passage_f1'])} | {_f(e['ARI'])} | "
                         f"{_f(e['ARI_pairs'])} | {e['time_s']} | {b['build_s']} |")
            if "small" in e:
                sm = e["small"]
                lines.append(f"| ↳ small run | {b['labelled_docs']:,} | | {_f(sm['P'])} | {_f(sm['R'])} | {_f(sm['F1'])} | "
                             f"{_f(sm['R_j5_lt_0_2'])} | {sm['fp']:,} | {sm['fp_boilerplate_only']:,} | | "
                             f"{_f(sm['passage_f1'])} | {_f(sm['ARI'])} | {_f(sm['ARI_pairs'])} | {sm['time_s']} | |")
        else:
            lines.append(f"| {r['name']} | {docs} | {b['gold_pairs']:,} | | | | | | | | | | | | {b['build_s']} |")
    lines += ["", "## Sets", ""]
    for r in records:
        b = r["build"]
        extra = ""
        if "roles" in b:
            extra = (f" Roles {b['roles']}; copy modes {b['copy_modes']}; largest gold cluster {b['largest_cluster']}; "
                     f"{b['sites']} sites.")
        lines.append(f"* **{r['name']}** — {b['what']}. {b['docs']:,} docs, {b['corpus_mb']} MB, "
                     f"{b['gold_pairs']:,} gold pairs.{extra}")
    diffs = [r for r in records if r.get("eval") and "scale_diff" in r["eval"]]
    if diffs:
        lines += ["", "## Scale sets: labelled pairs predicted differently in the small and the big run", "",
                  "| set | small-run pairs | big-run pairs | same | lost (gold/ignore/neg.) | gained (gold/ignore/neg.) |",
                  "|---|---|---|---|---|---|"]
        for r in diffs:
            d = r["eval"]["scale_diff"]

            def gin(c: dict[str, int]) -> str:
                return f"{sum(c.values()):,} ({c.get('gold', 0)}/{c.get('ignore', 0)}/{c.get('negative', 0)})"
            lines.append(f"| {r['name']} | {d['small_pairs']:,} | {d['big_pairs']:,} | {d['same']:,} | {gin(d['lost'])} | "
                         f"{gin(d['gained'])} |")
        for r in diffs:
            d = r["eval"]["scale_diff"]
            if d["lost_pairs"] or d["gained_pairs"]:
                lines += ["", f"{r['name']}: first differing pairs (all in heldout.json)", ""]
                for a, b, st in d["lost_pairs"][:10]:
                    lines.append(f"* lost `{a}`–`{b}` ({st})")
                for a, b, st in d["gained_pairs"][:10]:
                    lines.append(f"* gained `{a}`–`{b}` ({st})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where the sets go (default {DEFAULT_OUT})")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared folder (bench/, data/)")
    ap.add_argument("--only", default="", help="comma-separated set names (default: all)")
    ap.add_argument("--force", action="store_true", help="rebuild sets even when an identical build exists")
    ap.add_argument("--run", action="store_true", help="run doublet find on each set and score it")
    ap.add_argument("--doublet", default=str(Path.cwd() / ".venv" / "bin" / "doublet"),
                    help="doublet executable (default: .venv/bin/doublet of the current directory)")
    ap.add_argument("--doublet-args", default="", help="extra arguments for doublet find (one string)")
    ap.add_argument("--report", type=Path, default=BENCH / "results" / "heldout.md")
    ap.add_argument("--json", type=Path, default=BENCH / "results" / "heldout.json")
    a = ap.parse_args(argv)
    if not (a.shared / "bench" / "score.py").is_file() or not (a.shared / "data").is_dir():
        print(f"error: shared folder not found at {a.shared}", file=sys.stderr)
        return 2
    names = [n for n in a.only.split(",") if n]
    unknown = set(names) - {s.name for s in SUITE}
    if unknown:
        ap.error(f"unknown set(s): {', '.join(sorted(unknown))}")
    sets = [s for s in SUITE if not names or s.name in names]
    a.out.mkdir(parents=True, exist_ok=True)
    extra = shlex.split(a.doublet_args)
    records = []
    small_runs: dict[str, dict[str, Any]] = {}
    for s in sets:
        rec: dict[str, Any] = dict(name=s.name, build=build(s, a.out, a.shared, a.force))
        if a.run:
            rec["eval"] = evaluate(s, a.out, a.shared, a.doublet, extra, small_runs)
            e = rec["eval"]
            print(f"heldout: {s.name}: P={e['P']} R={e['R']} F1={e['F1']} ARI={e['ARI']} ({e['time_s']} s)",
                  file=sys.stderr, flush=True)
        records.append(rec)
    if not a.run:
        for r in records:
            b = r["build"]
            print(f"{r['name']}: {b['docs']:,} docs, {b['gold_pairs']:,} gold pairs, built in {b['build_s']} s")
        return 0
    version = subprocess.run([a.doublet, "--version"], capture_output=True, text=True).stdout.strip() or None
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or None
    meta = dict(doublet=a.doublet, doublet_args=a.doublet_args, doublet_version=version, commit=commit,
                date=time.strftime("%Y-%m-%d"), sets_dir=str(a.out))
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(dict(meta=meta, sets=records), indent=1) + "\n")
    a.report.write_text(report(records, meta))
    print(f"heldout: wrote {a.report} and {a.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
