"""Score a run against labelled gold: pairs, recall by similarity, passages, clusters, boilerplate FPs.

``doublet eval GOLD_DIR RUN_DIR`` and :func:`evaluate` give the same figures, under the same names, as the
reprint benchmark's ``score.py`` (``../shared/bench/score.py``), so results on any gold in that format
compare with the published baselines. The gold format (a folder):

==========================  ===================================================================================
``corpus.jsonl``            ``{"id", ...}`` per document (only ids are read; their order is the ARI's order)
``gold_pairs.jsonl``        ``{"a", "b", "spans": [[a_start, a_end, b_start, b_end], ...]}`` per reusing pair,
                            ``a < b``, half-open character offsets into the texts; optional ``jaccard5`` (word
                            5-gram Jaccard, for recall by bucket; 0 if absent), ``shared_words`` (for recall by
                            reused words), ``mode_a``/``mode_b`` (how each side was made, e.g. ``original``)
``ignore_pairs.jsonl``      optional: ``{"a", "b"}`` pairs counted neither right nor wrong
``gold_clusters.jsonl``     optional: ``{"id", "cluster"}``; if absent, the connected components of the gold pairs
``doc_meta.jsonl``          optional: ``{"id", "site", "header", "footer", "role", "source"}`` per document, to
                            tell false positives that share only site boilerplate (same site, both with a
                            header or both with a footer) from others
==========================  ===================================================================================

Measures: pair precision/recall/F1 (predicted pairs in ``ignore_pairs`` removed); recall by ``jaccard5``
bucket, by mode, by kind (``original-copy`` / ``copy-copy``) and by shared words; false positives by kind
(``fp_boilerplate_only``: same site and shared header or footer); passage precision/recall/F1 over the true
positive pairs that carry passages, in characters (each side's intervals merged first, both sides summed);
ARI of the run's ``clusters.jsonl`` (ids not listed are singletons) and of the components of its pairs.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cluster import components

__all__ = ["GOLD_FILES", "Gold", "Run", "adjusted_rand_index", "evaluate", "id_mismatch", "load_gold", "load_run",
           "summary_line"]

JACCARD_BUCKETS = ("<0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", ">=0.8")
WORD_BUCKETS = ("25-49", "50-99", "100-199", ">=200")
GOLD_FILES = ("corpus.jsonl", "gold_pairs.jsonl")

Key = tuple[str, str]


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


@dataclass
class Gold:
    """A gold folder, read."""

    ids: list[str]
    pairs: dict[Key, dict[str, Any]]
    ignore: set[Key] = field(default_factory=set)
    clusters: dict[str, str] | None = None
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: str = ""


@dataclass
class Run:
    """Predicted pairs (``a < b``; passages oriented likewise, None when a pair line had none) and clusters."""

    pairs: dict[Key, list[tuple[int, int, int, int]] | None]
    clusters: dict[str, str] | None = None
    lines: int = 0
    self_pairs: int = 0
    unknown_ids: int = 0
    path: str = ""
    unknown_example: str | None = None  # the first id not in the gold, for messages


def load_gold(gold_dir: str | Path) -> Gold:
    """Read a gold folder (see the module doc); FileNotFoundError names a missing required file."""
    g = Path(gold_dir)
    for name in GOLD_FILES:
        if not (g / name).is_file():
            raise FileNotFoundError(f"{g / name} not found: a gold folder needs {' and '.join(GOLD_FILES)} "
                                    "(see `doublet eval --help` for the format)")
    ids = [str(r["id"]) for r in _jsonl(g / "corpus.jsonl")]
    pairs = {(r["a"], r["b"]): r for r in _jsonl(g / "gold_pairs.jsonl")}
    ignore = {(r["a"], r["b"]) for r in _jsonl(g / "ignore_pairs.jsonl")} if (g / "ignore_pairs.jsonl").is_file() \
        else set()
    clusters = {str(r["id"]): str(r["cluster"]) for r in _jsonl(g / "gold_clusters.jsonl")} \
        if (g / "gold_clusters.jsonl").is_file() else None
    meta = {r["id"]: r for r in _jsonl(g / "doc_meta.jsonl")} if (g / "doc_meta.jsonl").is_file() else {}
    return Gold(ids, pairs, ignore, clusters, meta, os.path.abspath(g))


def load_run(run: str | Path, ids: set[str]) -> Run:
    """Read a run: a folder with ``pairs.jsonl`` (and ``clusters.jsonl`` if present) or a pairs file.

    Pairs are keyed ``a < b`` (swapped passages follow); self pairs and pairs with an id not in ``ids`` are
    counted and dropped; a pair listed twice keeps the passages of both lines.
    """
    path = Path(run)
    pairs_path = path / "pairs.jsonl" if path.is_dir() else path
    clusters_path = pairs_path.parent / "clusters.jsonl"
    if not pairs_path.is_file():
        raise FileNotFoundError(f"{pairs_path} not found: give a doublet output folder or a pairs.jsonl file")
    out = Run({}, path=os.path.abspath(pairs_path))
    for r in _jsonl(pairs_path):
        out.lines += 1
        a, b = str(r["a"]), str(r["b"])
        if a == b:
            out.self_pairs += 1
            continue
        if a not in ids or b not in ids:
            out.unknown_ids += 1
            if out.unknown_example is None:
                out.unknown_example = a if a not in ids else b
            continue
        swap = a > b
        key = (b, a) if swap else (a, b)
        have = out.pairs.setdefault(key, None)
        if r.get("passages") is not None:
            lst = [] if have is None else have
            for p in r["passages"]:
                a0, a1, b0, b1 = int(p["a_start"]), int(p["a_end"]), int(p["b_start"]), int(p["b_end"])
                lst.append((b0, b1, a0, a1) if swap else (a0, a1, b0, b1))
            out.pairs[key] = lst
    if clusters_path.is_file():
        out.clusters = {str(r["id"]): str(r["cluster"]) for r in _jsonl(clusters_path)}
    return out


def id_mismatch(gold: Gold, run: Run) -> str | None:
    """Why the run cannot be of the gold's corpus, or None: most of its pairs name ids the gold does not have,
    or its clusters.jsonl shares no id with the gold (scores against it would be all zeros, and mean nothing)."""
    lines = run.lines - run.self_pairs
    if lines and run.unknown_ids * 2 > lines:
        return (f"{run.unknown_ids:,} of the run's {lines:,} pairs name ids that are not in the gold's corpus.jsonl "
                f"(e.g. {run.unknown_example!r})")
    if run.clusters:
        gold_ids = set(gold.ids)
        if not any(i in gold_ids for i in run.clusters):
            example = next(iter(run.clusters))
            return f"none of the run's {len(run.clusters):,} documents (clusters.jsonl, e.g. {example!r}) is in the " \
                   "gold's corpus.jsonl"
    return None


# --------------------------------------------------------------------------------------------- measures

def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def _comb2_sum(counts: np.ndarray) -> int:
    c = counts.astype(np.int64)
    return int((c * (c - 1) // 2).sum())


def adjusted_rand_index(truth: np.ndarray, pred: np.ndarray) -> float:
    """Adjusted Rand index (Hubert & Arabie) of two parallel integer labelings, from their contingency table."""
    n = truth.shape[0]
    if n < 2:
        return 1.0
    pair_codes = truth.astype(np.int64) * (int(pred.max()) + 1) + pred.astype(np.int64)
    index = _comb2_sum(np.unique(pair_codes, return_counts=True)[1])
    sa = _comb2_sum(np.unique(truth, return_counts=True)[1])
    sb = _comb2_sum(np.unique(pred, return_counts=True)[1])
    expected = sa * sb / (n * (n - 1) // 2)
    most = (sa + sb) / 2
    if most == expected:
        return 1.0 if index == most else 0.0
    return (index - expected) / (most - expected)


def _codes(labels: list[str]) -> np.ndarray:
    return np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)[1]


def _merged_total(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per group (0..G-1, given G = group.max()+1): characters covered by its intervals, overlaps once."""
    n_groups = int(group.max()) + 1 if group.size else 0
    keep = end > start
    group, start, end = group[keep], start[keep], end[keep]
    order = np.lexsort((start, group))
    group, start, end = group[order], start[order], end[order]
    # running maximum of the ends within each group, up to the previous interval
    big = np.int64(1) << 40
    offset = group.astype(np.int64) * big
    reach = np.maximum.accumulate(end + offset) - offset
    prev = np.empty_like(reach)
    prev[1:] = reach[:-1]
    new_group = np.ones(group.shape[0], dtype=bool)
    new_group[1:] = group[1:] != group[:-1]
    prev[new_group] = np.iinfo(np.int64).min
    gain = np.clip(end - np.maximum(start, prev), 0, None)
    return np.bincount(group, weights=gain, minlength=n_groups).astype(np.int64)


def passage_scores(gold_spans: list[list[list[int]]], pred_spans: list[list[tuple[int, int, int, int]]]) \
        -> dict[str, Any]:
    """Character precision/recall/F1 of predicted vs gold passages over parallel lists of pairs.

    Each side's intervals are merged per pair; overlap(P, G) = |P| + |G| - |P ∪ G| (all three merged totals),
    computed for every pair and side at once.
    """
    k = len(gold_spans)
    counts = dict(pairs_with_passages=k, pred_chars=0, gold_chars=0, overlap_chars=0)
    if k == 0:
        return counts
    g = np.array([s[:4] for spans in gold_spans for s in spans], dtype=np.int64).reshape(-1, 4)
    p = np.array([s for spans in pred_spans for s in spans], dtype=np.int64).reshape(-1, 4)
    gk = np.repeat(np.arange(k), [len(s) for s in gold_spans])
    pk = np.repeat(np.arange(k), [len(s) for s in pred_spans])
    pred_total = gold_total = union_total = 0
    for lo, hi in ((0, 1), (2, 3)):  # side a, then side b
        pt = _merged_total(pk, p[:, lo], p[:, hi]).sum()
        gt = _merged_total(gk, g[:, lo], g[:, hi]).sum()
        ut = _merged_total(np.r_[pk, gk], np.r_[p[:, lo], g[:, lo]], np.r_[p[:, hi], g[:, hi]]).sum()
        pred_total, gold_total, union_total = pred_total + pt, gold_total + gt, union_total + ut
    counts.update(pred_chars=int(pred_total), gold_chars=int(gold_total),
                  overlap_chars=int(pred_total + gold_total - union_total))
    return counts


def _bucket(j: float) -> str:
    return JACCARD_BUCKETS[0] if j < .2 else JACCARD_BUCKETS[1] if j < .4 else JACCARD_BUCKETS[2] if j < .6 \
        else JACCARD_BUCKETS[3] if j < .8 else JACCARD_BUCKETS[4]


def _words_bucket(n: int) -> str:
    return WORD_BUCKETS[0] if n < 50 else WORD_BUCKETS[1] if n < 100 else WORD_BUCKETS[2] if n < 200 else WORD_BUCKETS[3]


def _recall(tally: dict[str, list[int]], order: tuple[str, ...] | None = None) -> dict[str, Any]:
    keys = order or tuple(sorted(tally))
    return {k: {"recall": round(tally[k][0] / tally[k][1], 4) if tally[k][1] else None, "n": tally[k][1]}
            for k in keys if k in tally}


def _recalls(gold: Gold, hits: set[Key]) -> dict[str, dict[str, Any]]:
    by: dict[str, defaultdict[str, list[int]]] = {n: defaultdict(lambda: [0, 0])
                                                  for n in ("jaccard", "mode", "kind", "words", "combo")}

    def count(table: str, key: str, hit: bool) -> None:
        by[table][key][0] += hit
        by[table][key][1] += 1

    for key, g in gold.pairs.items():
        hit = key in hits
        count("jaccard", _bucket(g.get("jaccard5", 0.0)), hit)
        ma, mb = g.get("mode_a"), g.get("mode_b")
        for m in sorted({ma, mb}, key=lambda x: (x is not None, x or "")):
            count("mode", m, hit)  # type: ignore[arg-type]
        count("combo", "|".join(sorted([str(ma), str(mb)])), hit)
        count("kind", "original-copy" if "original" in (ma, mb) else "copy-copy", hit)
        if "shared_words" in g:
            count("words", _words_bucket(g["shared_words"]), hit)
    return {"recall_by_jaccard5": _recall(by["jaccard"], JACCARD_BUCKETS), "recall_by_mode": _recall(by["mode"]),
            "recall_by_kind": _recall(by["kind"]), "recall_by_shared_words": _recall(by["words"], WORD_BUCKETS),
            "recall_by_mode_pair": _recall(by["combo"])}


def _false_positives(fp: list[Key], meta: dict[str, dict[str, Any]]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for a, b in fp:
        ma, mb = meta.get(a), meta.get(b)
        if not ma or not mb:
            kinds["unknown"] += 1
            continue
        same_site = ma.get("site") == mb.get("site")
        shared = same_site and ((ma.get("footer") and mb.get("footer")) or (ma.get("header") and mb.get("header")))
        kinds["same_site_boilerplate_only" if shared else
              "same_site_no_shared_boilerplate" if same_site else "different_site"] += 1
        if ma.get("source") and ma.get("source") == mb.get("source"):
            kinds["same_source_negative"] += 1
        kinds["roles:" + "|".join(sorted([ma.get("role", "?"), mb.get("role", "?")]))] += 1
    return kinds


def evaluate(gold: Gold, run: Run) -> dict[str, Any]:
    """Every measure of the module doc, as a dict with score.py's keys (figures rounded to 4 digits)."""
    pred = run.pairs
    tp = [k for k in pred if k in gold.pairs]
    fp = [k for k in pred if k not in gold.pairs and k not in gold.ignore]
    fn = [k for k in gold.pairs if k not in pred]
    p, r, f = _prf(len(tp), len(fp), len(fn))
    fp_kinds = _false_positives(fp, gold.meta)

    with_passages = [k for k in tp if pred[k]]
    pc = passage_scores([gold.pairs[k]["spans"] for k in with_passages], [pred[k] or [] for k in with_passages])
    pc["tp_pairs"] = len(tp)
    if with_passages:
        pp = pc["overlap_chars"] / pc["pred_chars"] if pc["pred_chars"] else 0.0
        pr = pc["overlap_chars"] / pc["gold_chars"] if pc["gold_chars"] else 0.0
        pf = 2 * pp * pr / (pp + pr) if pp + pr else 0.0
        passage = dict(precision=round(pp, 4), recall=round(pr, 4), f1=round(pf, 4))
    else:
        passage = dict(precision=None, recall=None, f1=None)
    passage.update({k: pc[k] for k in ("pairs_with_passages", "tp_pairs", "pred_chars", "gold_chars",
                                       "overlap_chars")})

    ids = gold.ids
    gold_cl = gold.clusters if gold.clusters is not None else _component_labels(ids, list(gold.pairs))
    truth = _codes([gold_cl.get(i, "__g_" + i) for i in ids])
    ari_components = adjusted_rand_index(truth, _component_codes(ids, list(pred)))
    ari_clusters = None
    if run.clusters is not None:
        ari_clusters = adjusted_rand_index(truth, _codes([run.clusters.get(i, "__s_" + i) for i in ids]))

    return dict(
        gold_dir=gold.path, pred=run.path, n_docs=len(ids), n_gold=len(gold.pairs), n_ignore=len(gold.ignore),
        n_pred_lines=run.lines, n_pred_pairs=len(pred), n_pred_self=run.self_pairs,
        n_pred_unknown_ids=run.unknown_ids, n_pred_ignored=sum(1 for k in pred if k in gold.ignore),
        tp=len(tp), fp=len(fp), fn=len(fn), precision=round(p, 4), recall=round(r, 4), f1=round(f, 4),
        **_recalls(gold, set(tp)),
        fp_breakdown=dict(sorted(fp_kinds.items())),
        fp_boilerplate_only=fp_kinds.get("same_site_boilerplate_only", 0),
        passage=passage,
        ari_clusters=None if ari_clusters is None else round(ari_clusters, 4),
        ari_pair_components=round(ari_components, 4),
    )


def _component_codes(ids: list[str], pairs: list[Key]) -> np.ndarray:
    index = {d: k for k, d in enumerate(ids)}
    ij = np.array([(index[a], index[b]) for a, b in pairs if a in index and b in index],
                  dtype=np.int64).reshape(-1, 2)
    return components(len(ids), ij[:, 0], ij[:, 1])


def _component_labels(ids: list[str], pairs: list[Key]) -> dict[str, str]:
    return {d: ids[c] for d, c in zip(ids, _component_codes(ids, pairs).tolist())}


def summary_line(s: dict[str, Any]) -> str:
    """score.py's last line: ``P=.. R=.. F1=.. passageF1=.. ARI=.. ARI_from=..``."""
    ari = s["ari_clusters"] if s["ari_clusters"] is not None else s["ari_pair_components"]
    pf = s["passage"]["f1"]
    return (f"P={s['precision']:.4f} R={s['recall']:.4f} F1={s['f1']:.4f} "
            f"passageF1={'NA' if pf is None else f'{pf:.4f}'} ARI={ari:.4f} "
            f"ARI_from={'clusters' if s['ari_clusters'] is not None else 'pair_components'}")
