"""The Spark engine: the local engine's stage functions inside PySpark, with the local engine's answer.

Engines orchestrate; they never reimplement a stage. Every algorithm below is a call to the function the
local engine calls, applied with ``mapInArrow`` to batches of documents or with ``applyInArrow`` to a group
that holds the rows of its keys:

1. **read** (:mod:`doublet.engines.spark_input`) — records read by Spark, checked by the local reader's
   rules; the first record of an id wins; each document gets its local-engine index (input order 0..n-1) and
   a site number (``--site-field`` / ``site_col``; :func:`doublet.engines.spark_input.site_number`).
2. **fingerprint** — :func:`doublet.analysis.fingerprint_batch` and :func:`doublet.minhash.band_keys` per
   Arrow batch of documents: band keys, fingerprint hashes, their positions (``fp_pos``), shape flags
   (``fp_flag``) and, with the frequency rule, position buckets (``fp_pb``, :func:`doublet.template.pos_bucket`)
   per document.
3. **lsh** — rows (band, key, doc) grouped by band and key bucket: :func:`doublet.candidates.lsh_pairs`
   per group (a bucket is never split, so its star rule for buckets over ``max_bucket`` holds).
4. **candidates** — rows (hash, doc, pos, flag, site) shuffled by hash bucket. In the JVM, window functions
   over each hash (no further shuffle) keep a document's first occurrence and count, over *all* the hash's
   documents, what :func:`doublet.template.decide` reads: df, documents voting with flag 1/2/3, smallest and
   largest site number; then they drop the rows beyond the hash's first ``max_df + 1`` documents (a cost
   bound on the group size). :func:`doublet.candidates.postings` per group with those counts
   (``stats=HashStats``) and the user's template hashes (broadcast) gives the templates (to the driver) and
   the pair occurrences, grouped by pair bucket for :func:`doublet.candidates.supported_pairs`. With the
   frequency rule, postings leaves content held by ``OUTLIER_MIN_DF`` documents or more pending
   (:func:`_frequency_rule`): the JVM counts every document's content fingerprints by df and position bucket
   over *all* rows, :func:`doublet.template.typical_df` and :func:`doublet.template.own_text_span` per batch of
   documents, :func:`doublet.template.outliers` per row of a pending hash (all of its rows, its document's
   figures joined on), the JVM counts them per hash, and :func:`doublet.candidates.settle` per hash bucket
   decides the pending hashes with those counts (``counts=``).
   ``boilerplate.jsonl``: :func:`doublet.template.blocks` on the driver, with the example documents' texts
   streamed from the cached documents.
5. **verify+align** — each candidate pair joined with both texts, oriented by id as the local engine does
   (``a < b``), :func:`doublet.analysis.prepare` and :func:`doublet.analysis.compare_prepared` per row,
   with the template hashes broadcast as the mask; pairs left out as one formula with other figures are
   counted (``template_matches``).
6. **cluster** (:mod:`doublet.engines.spark_graph`) — :func:`doublet.cluster.copy_clusters`' clusters:
   connected components of copies (near-duplicates, or pairs with a containment ≥ ``COPY_SHARE``) plus one
   pair of each other document, to a copy if it has one, else its strongest
   (:func:`~doublet.engines.spark_graph.copy_edges`), and of the
   near-duplicate pairs, by large-star / small-star rounds on DataFrames (Kiveris et al. 2014), each named by
   its smallest id as in :mod:`doublet.cluster`.

What reaches the driver: per-segment record counts and the input problems (stage 1), the templates (hash,
rule, df, example document and position; stage 4: as the local engine also holds them in memory), read one
partition at a time (the frequency rule's anti-join broadcasts the postings' template hashes back), the
texts of the templates' example documents (streamed, for boilerplate.jsonl), the fingerprint
document-frequency histogram, counts, and one flag per connected-components round. Never the corpus, the
signatures, the fingerprints, the documents' histograms or the candidate pairs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

try:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession, Window
    from pyspark.sql import functions as F
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("the Spark engine needs pyspark, pandas and pyarrow: pip install 'doublet[spark]' "
                      f"(and Java 17+ for Spark itself); import failed: {exc}") from exc

from .. import __version__
from .. import dedup as dedup_rules
from .. import documents as D
from ..analysis import PairResult, Prepared, compare_prepared, fingerprint_batch, prepare
from ..candidates import (HashStats, lone_rows, lsh_pairs, pair_keys, postings, settle, settled_histogram,
                          supported_pairs)
from ..config import Config
from ..documents import InputProblem
from ..minhash import band_keys
from ..against import rows as against_rows
from ..progress import Progress
from ..attribution import SINGLETON, attribute
from ..cluster import COPY_SHARE
from ..result import CLUSTER_COLUMNS, Result, cluster_lines, pair_from_dict
from ..template import (DF_BUCKETS, OUTLIER_MIN_DF, POS_BUCKETS, Rules, Templates, df_bucket,
                        doc_histogram, outliers, own_text_span, pos_bucket, typical_df, user_hashes)
from ..template import blocks as template_blocks
from ..template import summary as template_summary
from ..template import write_table
from ..spill import WorkDir
from . import spark_graph as G
from . import spark_input as I
from .spark_input import check_inputs

PRINTS_SCHEMA = ("doc long, site long, n_words long, n_chars long, has_sig boolean, bands array<long>, "
                 "fp_hash array<long>, fp_pos array<int>, fp_flag array<byte>, fp_pb array<byte>")
# rows of the postings (and settle) groups' output, by kind: OCCURRENCE (value = pair key, pos_a/pos_b = the
# fingerprint's positions), TEMPLATE (value = hash, pos_a = its position in doc, the example document; pos_b =
# its rule; df = documents holding it), PENDING (a row postings left for settle: value = hash, doc, pos_a =
# position, df = documents holding it), HISTOGRAM (a df histogram entry: label, value)
POSTINGS_SCHEMA = "kind byte, value long, label string, pos_a int, pos_b int, doc long, df long"
OCCURRENCE, TEMPLATE, PENDING, HISTOGRAM = 0, 1, 2, 3
PASSAGE = "struct<a_start:long,a_end:long,b_start:long,b_end:long,identity:double>"
PAIRS_SCHEMA = (f"a string, b string, kind string, level string, jaccard double, containment_a double, "
                f"containment_b double, passages array<{PASSAGE}>, doc_a long, doc_b long, line string")
PAIR_COLUMNS = ["a", "b", "kind", "level", "jaccard", "containment_a", "containment_b", "passages"]
ATTRIBUTION_SCHEMA = "att_doc long, original boolean, original_reason string"
REMOVED_SCHEMA = "doc long, id string, kept string, jaccard double, cluster string, via string, line string"
_PASSAGE_TYPE = pa.list_(pa.struct([(k, pa.int64()) for k in ("a_start", "a_end", "b_start", "b_end")] +
                                   [("identity", pa.float64())]))
_NEAR_DUP = "near-duplicate"
_CACHE_DOCS = 512  # prepared documents cached per verification task (pairs arrive grouped by document)
# summary.json's keys, in the local engine's order (its summary is built inline in engines/local.py)
_COUNT_KEYS = ("input_records", "documents", "rejected", "repaired", "unreadable_inputs", "characters", "words",
               "pairs", "near_duplicate_pairs", "reuse_pairs", "passages", "clusters", "clusters_with_reuse",
               "largest_cluster", "near_duplicate_clusters_with_copies", "documents_removable_as_near_duplicates")
_CANDIDATE_KEYS = ("lsh", "fingerprint", "pair_occurrences", "compared", "fingerprints", "boilerplate_fingerprints")
_STAGES = ("read", "fingerprint", "lsh", "candidates", "verify+align", "cluster")


def _u64(a: Any) -> np.ndarray:
    """A Spark long column (Arrow array or chunked array) as the uint64 values the stage functions use."""
    return np.ascontiguousarray(a.to_numpy(), dtype=np.int64).view(np.uint64)


def _i64(a: np.ndarray) -> np.ndarray:
    """uint64 keys as the int64 values Spark stores (same bits)."""
    return np.ascontiguousarray(a, dtype=np.uint64).view(np.int64)


def _on_group(fn: Any, **kw: Any) -> Any:
    """``fn(table, **kw)`` as a plain one-argument function: pyspark's applyInArrow cannot inspect a partial."""
    def call(table):  # type: ignore[no-untyped-def]  # no hints: applyInArrow passes the group as a Table
        return fn(table, **kw)
    return call


def _on_cogroup(fn: Any, **kw: Any) -> Any:
    """``fn(left, right, **kw)`` as a plain two-argument function (see :func:`_on_group`)."""
    def call(left, right):  # type: ignore[no-untyped-def]
        return fn(left, right, **kw)
    return call


def _lists(offsets: np.ndarray, values: np.ndarray) -> pa.ListArray:
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values))


# ------------------------------------------------------------------------------------------ stage bodies
# Each runs on an executor, on an Arrow batch or group, and only calls the shared stage functions.

def _fingerprints(batches: Iterator[pa.RecordBatch], cfg: Config) -> Iterator[pa.RecordBatch]:
    """fingerprint_batch + band_keys per batch of (doc, id, text, site) rows: each fingerprint with its
    position, shape flag (``fp_flag``: 0; 1 template-shaped, 2 end zone, 3 tail paragraph) and, with the
    frequency rule, the bucket of its position in the document (``fp_pb``: :func:`doublet.template.pos_bucket`,
    for the documents' own-text spans and the outlier test)."""
    bands, rows = cfg.lsh_params()
    frequency = Rules.of(cfg).frequency
    for batch in batches:
        texts = batch.column("text").to_pylist()
        n = len(texts)
        bp = fingerprint_batch(texts, cfg)
        fp_off = np.r_[0, np.cumsum(bp.fp_counts)]
        pb = pos_bucket(bp.fp_pos, np.repeat(bp.n_words, bp.fp_counts)) if frequency else np.empty(0, np.uint8)
        yield pa.RecordBatch.from_arrays([
            batch.column("doc"),
            batch.column("site"),
            pa.array(bp.n_words.astype(np.int64)),
            pa.array(np.fromiter(map(len, texts), np.int64, n)),
            pa.array(bp.has_sig),
            _lists(np.arange(n + 1) * bands, _i64(band_keys(bp.sigs, bands, rows)).reshape(-1)),
            _lists(fp_off, _i64(bp.fp_hashes)),
            _lists(fp_off, bp.fp_pos.astype(np.int32)),
            _lists(fp_off, bp.fp_shape.astype(np.int8)),
            _lists(fp_off if frequency else np.zeros(n + 1, np.int64), pb.astype(np.int8)),
        ], names=["doc", "site", "n_words", "n_chars", "has_sig", "bands", "fp_hash", "fp_pos", "fp_flag", "fp_pb"])


def _lsh_group(table: pa.Table, max_bucket: int, split: int | None) -> pa.Table:
    """lsh_pairs on one group: every (key, doc) row of one band whose key falls in the group's bucket."""
    pairs = lsh_pairs(_u64(table.column("key")), table.column("doc").to_numpy(), max_bucket, split=split)
    return pa.table({"pair": _i64(pairs)})


STATS_COLUMNS = ("df", "votes", "weak", "tail", "site_lo", "site_hi")
"""Per-row copies of the counts of the row's hash over all its documents (:class:`HashStats`' fields)."""


def _postings_group(table: pa.Table, max_df: int, rules: Rules, user: Any, split: int | None) -> pa.Table:
    """postings on one group: the (hash, doc, pos, flag) rows a pair can come from (the first occurrence in each
    of the first ``max_df + 1`` documents of each hash in it), each with its hash's counts over *all* its
    documents (:data:`STATS_COLUMNS`, aggregated in the JVM), which decide the template rule.

    This is the one place the engine calls :func:`doublet.candidates.postings`, with the group's rows in the
    (doc, position) order the local engine's spill has. Returns the pair occurrences, the templates with their
    rule, df and example (first document, position there), the df histogram entries and, with the frequency
    rule, the rows left pending for :func:`_settle_group` (the documents' histograms are counted over all rows
    in the JVM: :func:`_doc_text`). ``split``: only pairs across it (``--against``).
    """
    doc = table.column("doc").to_numpy().astype(np.int64)
    pos = table.column("pos").to_numpy().astype(np.uint32)
    hashes = _u64(table.column("hash"))
    order = np.lexsort((pos, doc))
    uniq, first = np.unique(hashes, return_index=True)
    stats = HashStats(uniq, *(table.column(c).to_numpy()[first].astype(np.int64) for c in STATS_COLUMNS))
    post = postings(hashes[order], doc[order], pos[order], table.column("flag").to_numpy()[order].astype(np.uint8),
                    max_df, rules=rules, user=user.value if user is not None else None, stats=stats,
                    defer_min_df=OUTLIER_MIN_DF if rules.frequency else None, split=split)
    if post.pending is not None:  # with the df of each row's hash, over all its documents
        pending = (*post.pending, stats.lookup(post.pending[0])[0])
    else:
        pending = (np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.uint32), np.empty(0, np.int64))
    return _postings_table(post.pair_keys, post.pos_a, post.pos_b, post.templates, pending, post.df_histogram)


def _postings_table(keys: np.ndarray, pos_a: np.ndarray, pos_b: np.ndarray, t: Templates,
                    pending: tuple[np.ndarray, ...], hist: Counter) -> pa.Table:
    """Pair occurrences, templates, pending rows (hash, doc, position, df) and histogram entries as
    :data:`POSTINGS_SCHEMA` rows."""
    labels = list(hist)  # in postings' order
    ph, pdoc, ppos, pdf = pending
    n_occ, n_templ, n_pend, n_hist = keys.shape[0], len(t), ph.shape[0], len(labels)
    zeros = np.zeros(n_hist, np.int64)
    return pa.table({
        "kind": pa.array(np.repeat(np.array([OCCURRENCE, TEMPLATE, PENDING, HISTOGRAM], np.int8),
                                   [n_occ, n_templ, n_pend, n_hist])),
        "value": pa.array(np.r_[_i64(keys), _i64(t.hashes), _i64(ph), np.array([hist[k] for k in labels], np.int64)]),
        "label": pa.concat_arrays([pa.nulls(n_occ + n_templ + n_pend, pa.string()), pa.array(labels, pa.string())]),
        "pos_a": pa.array(np.r_[pos_a.astype(np.int32), t.pos.astype(np.int32), ppos.astype(np.int32),
                                zeros.astype(np.int32)]),
        "pos_b": pa.array(np.r_[pos_b.astype(np.int32), t.rule.astype(np.int32), np.zeros(n_pend, np.int32),
                                zeros.astype(np.int32)]),
        "doc": pa.array(np.r_[np.zeros(n_occ, np.int64), t.doc, pdoc.astype(np.int64), zeros]),
        "df": pa.array(np.r_[np.zeros(n_occ, np.int64), t.df, pdf.astype(np.int64), zeros]),
    })


def _doc_text(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Each document's typical df (:func:`doublet.template.typical_df`) and own-text span
    (:func:`doublet.template.own_text_span`), from rows (doc, counts): ``counts`` lists (df, pb, n) = ``n`` content
    fingerprints of the document held by ``df`` documents, with ``pb`` the bucket of their position there
    (:func:`doublet.template.pos_bucket`) when ``df < OUTLIER_MIN_DF`` (own text), else null; counted in the JVM
    over every row of every hash. The histograms are the local engine's (``Postings.doc_buckets`` and
    ``doc_own`` summed over all partitions)."""
    for batch in batches:
        n = batch.num_rows
        lists = batch.column("counts")
        at = np.repeat(np.arange(n, dtype=np.int64), lists.value_lengths().to_numpy(zero_copy_only=False))
        entries = lists.flatten()
        df = entries.field("df").to_numpy().astype(np.int64)
        count = entries.field("n").to_numpy().astype(np.int64)
        pb = entries.field("pb")
        own = pb.is_valid().to_numpy(zero_copy_only=False)
        pb = pb.fill_null(0).to_numpy().astype(np.int64)
        typical = typical_df(doc_histogram(n, at * DF_BUCKETS + df_bucket(df), count))
        own_lo, own_hi = own_text_span(doc_histogram(n, at[own] * POS_BUCKETS + pb[own], count[own], POS_BUCKETS))
        yield pa.RecordBatch.from_arrays([batch.column("doc"), pa.array(typical.astype(np.float64)),
                                          pa.array(own_lo), pa.array(own_hi)],
                                         names=["doc", "typical", "own_lo", "own_hi"])


def _outlier_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The (bucket, hash) of each row (hash, doc, pb, df, typical, own_lo, own_hi: a pending fingerprint's
    occurrence with its document's typical df and own-text span) that :func:`doublet.template.outliers` calls an
    outlier, to be counted per hash."""
    for batch in batches:
        col = {c: batch.column(c).to_numpy() for c in ("df", "typical", "pb", "own_lo", "own_hi")}
        out = outliers(col["df"], col["typical"], col["pb"], col["own_lo"], col["own_hi"])
        yield pa.RecordBatch.from_arrays([batch.column("bucket").filter(pa.array(out)),
                                          batch.column("hash").filter(pa.array(out))], names=["bucket", "hash"])


def _lone_group(table: pa.Table, reach: int) -> pa.Table:
    """lone_rows on one group: every common pending row (hash, doc, pos) of the documents in it. Returns the
    (hash, doc) of the lone ones."""
    lone = lone_rows(table.column("doc").to_numpy(), table.column("pos").to_numpy(), reach)
    mask = pa.array(lone)
    return pa.table({"hash": table.column("hash").filter(mask), "doc": table.column("doc").filter(mask)})


def _settle_group(pending: pa.Table, outlying: pa.Table, max_df: int, split: int | None) -> pa.Table:
    """settle on one group: the pending rows (hash, doc, pos, df; the first ``max_df + 1`` documents of each
    hash, df over all of them) and two kinds of side rows: per hash, the documents in which it is an outlier
    (hash, n_out, doc = -1; counted over all of its rows: a hash without outliers has no row), and the lone
    common rows (hash, doc; :func:`_lone_group`). Returns the pair occurrences and the FREQUENCY templates, as
    :func:`_postings_group` does."""
    h, d = _u64(pending.column("hash")), pending.column("doc").to_numpy().astype(np.int64)
    p, df = pending.column("pos").to_numpy().astype(np.uint32), pending.column("df").to_numpy().astype(np.int64)
    order = np.lexsort((d, h))  # grouped by hash, each hash's documents in order (its first is the example)
    h, d, p, df = h[order], d[order], p[order], df[order]
    uniq, first = np.unique(h, return_index=True)
    n_out = np.zeros(uniq.shape[0], np.int64)
    oh, on = _u64(outlying.column("hash")), outlying.column("n_out").to_numpy().astype(np.int64)
    od = outlying.column("doc").to_numpy().astype(np.int64)
    counts = od < 0
    n_out[np.searchsorted(uniq, oh[counts])] = on[counts]  # every hash with outliers is pending (content, df >= 5)
    # lone rows, matched by (hash number in this group, doc): every common row is pending
    lone = np.isin(pair_keys(np.searchsorted(uniq, h), d), pair_keys(np.searchsorted(uniq, oh[~counts]), od[~counts]))
    keys, pos_a, pos_b, found = settle(h, d, p, None, None, None, None, max_df, counts=(uniq, df[first], n_out),
                                       lone=lone, split=split)
    none = (np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.uint32), np.empty(0, np.int64))
    return _postings_table(keys, pos_a, pos_b, found, none, Counter())


def _judge_group(table: pa.Table, min_shared: int, min_span: int, shingle_size: int, drift: int) -> pa.Table:
    """supported_pairs on one group: every occurrence of the pair keys in it (the one call of supported_pairs)."""
    pairs, shared = supported_pairs(_u64(table.column("pair")), table.column("pos_a").to_numpy().astype(np.uint32),
                                    table.column("pos_b").to_numpy().astype(np.uint32), min_shared, min_span,
                                    shingle_size, drift)
    return pa.table({"pair": _i64(pairs), "shared": shared})


class _Prepared:
    """Prepared documents of one verification task, least recently used dropped first."""

    def __init__(self, cfg: Config, templates: np.ndarray):
        self.cfg, self.templates = cfg, templates
        self.docs: OrderedDict[int, Prepared] = OrderedDict()

    def __call__(self, k: int, text: str) -> Prepared:
        got = self.docs.pop(k, None) or prepare(text, self.cfg, self.templates)
        self.docs[k] = got
        if len(self.docs) > _CACHE_DOCS:
            self.docs.popitem(last=False)
        return got


def _verify(batches: Iterator[pa.RecordBatch], cfg: Config, templates: Any) -> Iterator[pa.RecordBatch]:
    """compare_prepared on (i, j, id_i, id_j, text_i, text_j) rows, with the template hashes masked; the
    reported pairs, oriented a < b, and the template matches (pairs not reported because their passages were
    one formula with other figures) as rows without a kind, to be counted."""
    doc = _Prepared(cfg, templates.value)
    for batch in batches:
        out: dict[str, list[Any]] = {c: [] for c in PAIRS_SCHEMA_NAMES}
        cols = [batch.column(c).to_pylist() for c in ("i", "j", "id_i", "id_j", "text_i", "text_j")]
        for i, j, id_i, id_j, text_i, text_j in zip(*cols):
            if id_j < id_i:  # the local engine's orientation: by id, in Python's string order
                i, j, id_i, id_j, text_i, text_j = j, i, id_j, id_i, text_j, text_i
            r = compare_prepared(id_i, id_j, doc(i, text_i), doc(j, text_j), cfg)
            if r.kind is None and not r.other_facts:
                continue
            d = r.to_dict()
            for c in PAIR_COLUMNS:
                out[c].append(d[c])
            out["doc_a"].append(i)
            out["doc_b"].append(j)
            out["line"].append(json.dumps(d, ensure_ascii=False) if r.kind is not None else None)
        yield pa.RecordBatch.from_arrays(
            [pa.array(out[c], _PASSAGE_TYPE if c == "passages" else t) for c, t in zip(PAIRS_SCHEMA_NAMES, _PAIR_TYPES)],
            names=PAIRS_SCHEMA_NAMES)


PAIRS_SCHEMA_NAMES = [c.split()[0] for c in PAIRS_SCHEMA.replace(f"array<{PASSAGE}>", "x").split(", ")]
_PAIR_TYPES = [pa.string()] * 4 + [pa.float64()] * 3 + [_PASSAGE_TYPE, pa.int64(), pa.int64(), pa.string()]


def _attribute_group(members: pa.Table, pairs: pa.Table) -> pa.Table:
    """:func:`doublet.attribution.attribute` on one cluster: its members (doc, id, cluster) and every reported
    pair with a member on one side (a, b, containment_a, containment_b, passages). The Spark engine has no dates
    (the readers it shares with the local engine give none for JSON Lines, Parquet or text), so the rule is the
    most reused text.

    A pair may join a member to a document of another cluster (a passage that links no clusters of copies,
    :func:`doublet.cluster.copy_clusters`); it still credits the member, as the local engine's scores over all
    reported pairs do: the other document takes part under a label of its own, and its decision is dropped.
    Pairs are taken in (a, b) order, the order of pairs.jsonl, so every member's scores are summed in the local
    engine's order (the same floating-point sums)."""
    ids = members.column("m_id").to_pylist()
    labels = members.column("m_cluster").to_pylist()
    rows = sorted(pairs.drop(["p_cluster"]).to_pylist(), key=lambda r: (r["a"], r["b"]))
    outside = sorted({x for r in rows for x in (r["a"], r["b"])} - set(ids))
    pairs_list = [pair_from_dict({**row, "kind": None, "jaccard": 0.0}) for row in rows]
    other = (labels[0] if labels else "") + "\0other clusters"
    att = attribute(ids + outside, labels + [other] * len(outside), pairs_list, None)
    return pa.table({"att_doc": members.column("m_doc"), "original": pa.array(att.original[:len(ids)], pa.bool_()),
                     "original_reason": pa.array(att.reason[:len(ids)], pa.string())})


def _cluster_lines(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """clusters.jsonl lines (Result's schema and json.dumps formatting) of (doc, id, cluster, ...) rows."""
    for batch in batches:
        yield pa.RecordBatch.from_arrays([batch.column("doc"), cluster_lines(*(batch.column(c) for c in CLUSTER_COLUMNS))],
                                         names=["doc", "line"])


class _Texts:
    """Texts by position: the ``store`` of a one-cluster :class:`Result` for :func:`doublet.dedup.plan`."""

    def __init__(self, texts: list[str]):
        self.texts = texts

    def get(self, k: int) -> str:
        return self.texts[k]


def _plan_group(members: pa.Table, pairs: pa.Table, keep: str, cfg: Config) -> pa.Table:
    """dedup.plan on one near-duplicate cluster: its members (doc, id, text) and its near-duplicate pairs."""
    order = np.argsort(members.column("doc").to_numpy(), kind="stable")
    docs = members.column("doc").to_numpy()[order]
    ids = [members.column("id")[int(k)].as_py() for k in order]
    texts = [members.column("text")[int(k)].as_py() for k in order]
    name = min(ids)
    direct = [PairResult(a, b, _NEAR_DUP, jac, 0.0, 0.0, ()) for a, b, jac in
              zip(*(pairs.column(c).to_pylist() for c in ("a", "b", "jaccard")))]
    one = Result(ids=ids, clusters=[name] * len(ids), near_duplicate_clusters=[name] * len(ids), store=_Texts(texts),
                 char_lengths=np.fromiter(map(len, texts), np.int64, len(texts)), _pairs=direct)
    _, removals = dedup_rules.plan(one, keep, cfg)
    at = {d: k for k, d in enumerate(ids)}
    return pa.table({
        "doc": pa.array([int(docs[at[r.id]]) for r in removals], pa.int64()),
        "id": pa.array([r.id for r in removals], pa.string()),
        "kept": pa.array([r.kept for r in removals], pa.string()),
        "jaccard": pa.array([r.jaccard for r in removals], pa.float64()),
        "cluster": pa.array([r.cluster for r in removals], pa.string()),
        "via": pa.array([r.via for r in removals], pa.string()),
        "line": pa.array([json.dumps(r.to_dict(), ensure_ascii=False) for r in removals], pa.string()),
    })


def _frequency_rule(spark: SparkSession, counted: DataFrame, post: DataFrame, templates: Templates, parts: int,
                    max_df: int, common_df: int, reach: int, split: int | None = None) -> DataFrame:
    """The frequency rule (:func:`doublet.candidates.settle`) on the rows :func:`_postings_group` left pending:
    every row of a hash is counted (``counted``: one row per hash and document, before the cap, with the hash's
    df and the position bucket ``pb``), as the local engine's postings jobs count them.

    1. Each document's typical df and own-text span (:func:`_doc_text`), from the counts of its content
       fingerprints (every fingerprint but ``templates``, the postings' templates: a broadcast anti-join) by df
       and, for those held by fewer than ``OUTLIER_MIN_DF`` documents, by position bucket.
    2. Per pending hash (content held by ``OUTLIER_MIN_DF`` documents or more), the documents in which it is an
       outlier (:func:`doublet.template.outliers` per row, :func:`_outlier_rows`, with its document's figures
       joined on), counted over all of its rows.
    3. The common pending rows alone in their document (:func:`doublet.candidates.lone_rows` per document
       bucket, :func:`_lone_group`), sent to their hash's bucket beside the counts.
    4. :func:`doublet.candidates.settle` per hash bucket on the pending rows (the first ``max_df + 1`` documents
       of each hash) with those counts and lone rows (:func:`_settle_group`): pair occurrences and FREQUENCY
       templates, as :data:`POSTINGS_SCHEMA` rows.
    """
    templ = spark.createDataFrame(pa.table({"hash": pa.array(_i64(templates.hashes))}))
    content = counted.join(F.broadcast(templ), "hash", "left_anti")
    own_pb = F.when(F.col("df") < OUTLIER_MIN_DF, F.col("pb")).alias("pb")
    doc_text = (content.groupBy("doc", "df", own_pb).agg(F.count("*").alias("n"))
                .groupBy("doc").agg(F.collect_list(F.struct("df", "pb", "n")).alias("counts"))
                .mapInArrow(_doc_text, "doc long, typical double, own_lo long, own_hi long"))
    outlying = (content.filter(F.col("df") >= OUTLIER_MIN_DF).select("bucket", "hash", "doc", "pb", "df")
                .join(I.shuffled(doc_text), "doc").mapInArrow(_outlier_rows, "bucket long, hash long")
                .groupBy("bucket", "hash").agg(F.count("*").alias("n_out")))
    pending = post.filter(F.col("kind") == PENDING).select(
        F.col("value").alias("hash"), "doc", F.col("pos_a").alias("pos"), "df").withColumn(
        "bucket", F.pmod("hash", F.lit(parts)))
    lone = (pending.filter((F.col("df") > common_df) & (F.col("df") <= max_df)).select("hash", "doc", "pos")
            .groupBy(F.pmod("doc", F.lit(parts)).alias("doc_bucket"))
            .applyInArrow(_on_group(_lone_group, reach=reach), "hash long, doc long")
            .select(F.pmod("hash", F.lit(parts)).alias("bucket"), "hash", F.lit(0).cast("long").alias("n_out"), "doc"))
    outlying = outlying.withColumn("doc", F.lit(-1).cast("long")).unionByName(lone)
    return pending.groupBy("bucket").cogroup(outlying.groupBy("bucket")).applyInArrow(
        _on_cogroup(_settle_group, max_df=max_df, split=split), POSTINGS_SCHEMA)


# ------------------------------------------------------------------------------------------ on the driver

def _collect_templates(post: DataFrame) -> tuple[Templates, Counter]:
    """The templates (sorted by hash) and the df histogram from the postings' (and settle's) output, read one
    partition at a time (no job's result is larger than one partition's share)."""
    cols: list[list[int]] = [[], [], [], [], []]  # hash, rule, df, doc, pos
    hist: Counter = Counter()
    rows = post.filter(F.col("kind").isin(TEMPLATE, HISTOGRAM)).select("kind", "value", "label", "pos_a", "pos_b",
                                                                       "doc", "df")
    for r in rows.toLocalIterator():
        if r["kind"] == TEMPLATE:
            for col, v in zip(cols, (r["value"], r["pos_b"], r["df"], r["doc"], r["pos_a"])):
                col.append(v)
        else:
            hist[r["label"]] += r["value"]
    hashes = np.array(cols[0], np.int64).view(np.uint64)
    order = np.argsort(hashes, kind="stable")
    out = Templates(hashes[order], np.array(cols[1], np.uint8)[order], np.array(cols[2], np.int64)[order],
                    np.array(cols[3], np.int64)[order], np.array(cols[4], np.uint32)[order])
    return out, hist


def _max_result_bytes(spark: SparkSession) -> int:
    """``spark.driver.maxResultSize`` in bytes (0, unlimited, as 2**40)."""
    text = spark.conf.get("spark.driver.maxResultSize", "1g") or "1g"
    size = int(spark.sparkContext._jvm.org.apache.spark.network.util.JavaUtils.byteStringAsBytes(text))  # type: ignore[union-attr]
    return size if size > 0 else 1 << 40


class _ExampleTexts:
    """The ids and texts of the templates' example documents, streamed from Spark in document order, which is
    the order :func:`doublet.template.blocks` asks for them in (a text asked for out of that order is fetched by
    itself). ``ids`` maps a document index to its id, as ``blocks`` reads ``ids[k]``."""

    def __init__(self, docs: DataFrame, rows: Iterator[Any]):
        self.docs, self.rows = docs, rows
        self.ids: dict[int, str] = {}
        self.ahead: Any = None

    def text(self, k: int) -> str:
        if self.ahead is None or self.ahead["doc"] < k:
            self.ahead = next((r for r in self.rows if r["doc"] >= k), None)
        row = self.ahead if self.ahead is not None and self.ahead["doc"] == k else \
            self.docs.filter(F.col("doc") == k).select("doc", "id", "text").first()
        self.ids[k] = row["id"]
        return row["text"]


def _template_blocks(spark: SparkSession, docs: DataFrame, templates: Templates,
                     cfg: Config) -> tuple[list[dict], dict[int, str]]:
    """boilerplate.jsonl's blocks: :func:`doublet.template.blocks` on the driver, with the texts of the example
    documents only, streamed from the cached documents in partitions of at most a quarter of
    ``spark.driver.maxResultSize``; and the ids of the example documents (for ``templates.parquet``)."""
    examples = np.unique(templates.doc)
    if not examples.shape[0]:
        return template_blocks(templates, [], lambda k: "", cfg.shingle_size, cfg.rule.window), {}
    wanted = spark.createDataFrame([(int(k),) for k in examples.tolist()], "doc long")
    rows = docs.join(I.shuffled(wanted), "doc").select("doc", "id", "text").persist()
    try:
        size = int(rows.agg(F.sum(F.octet_length("text"))).first()[0] or 0)
        parts = int(min(examples.shape[0], max(1, -(-4 * size // _max_result_bytes(spark)))))
        texts = _ExampleTexts(docs, rows.repartitionByRange(parts, "doc").sortWithinPartitions("doc")
                              .toLocalIterator())
        listed = template_blocks(templates, texts.ids, texts.text, cfg.shingle_size, cfg.rule.window)  # type: ignore[arg-type]
        for k in examples.tolist():  # blocks reads every example's text; should it not, its id
            if k not in texts.ids:
                texts.text(k)
        return listed, texts.ids
    finally:
        rows.unpersist()


# ------------------------------------------------------------------------------------------ the run

@dataclass
class SparkRun:
    """Pairs, clusters and summary of a Spark run, as DataFrames (persisted until :meth:`close`).

    ``pairs``: one row per reported pair, in ``pairs.jsonl``'s schema (:data:`PAIR_COLUMNS`);
    ``clusters``: one row per document (``doc`` = its index in input order, then :data:`CLUSTER_COLUMNS`);
    ``template_blocks``: the recurring blocks taken as template (``boilerplate.jsonl``), on the driver;
    ``templates``: every fingerprint taken as template (``templates.parquet``), with ``template_ids``, the ids of
    their example documents, on the driver.
    """

    spark: SparkSession
    cfg: Config
    docs: DataFrame  # doc, id, text, site
    reported: DataFrame  # PAIRS_SCHEMA: the pairs with their document indices and JSON lines
    clusters: DataFrame
    near_dup_components: DataFrame  # node, root
    summary: dict[str, Any]
    problems: list[InputProblem] = field(default_factory=list)
    _cached: list[Any] = field(default_factory=list, repr=False)
    template_blocks: list[dict[str, Any]] = field(default_factory=list, repr=False)
    verified: DataFrame | None = field(default=None, repr=False)  # cached: ``reported`` and the template matches
    templates: Templates | None = field(default=None, repr=False)
    template_ids: dict[int, str] = field(default_factory=dict, repr=False)
    n_new: int | None = None  # with --against: documents 0..n_new-1 are NEW, the others REFERENCE

    @property
    def pairs(self) -> DataFrame:
        return self.reported.select(*PAIR_COLUMNS)

    def _lengths(self, below: int | None = None) -> np.ndarray:
        """Characters of each document (input order), or of the first ``below``."""
        docs = self.docs if below is None else self.docs.filter(F.col("doc") < below)
        return np.array([r[0] for r in docs.orderBy("doc").select(F.length("text")).toLocalIterator()], np.int64)

    def against(self) -> Iterator[dict[str, Any]]:
        """``against.jsonl`` rows of a run with ``against`` (:func:`doublet.against.rows`), on the driver: the
        NEW documents' ids and lengths and the (cross) pairs are collected."""
        if self.n_new is None:
            raise ValueError("not a run made with against=...")
        ids = [r[0] for r in self.docs.filter(F.col("doc") < self.n_new).orderBy("doc").select("id").toLocalIterator()]
        pairs = (pair_from_dict(json.loads(r[0])) for r in
                 self.reported.orderBy("a", "b").select("line").toLocalIterator())
        return against_rows(ids, self.n_new, self._lengths(self.n_new), pairs)

    def removed(self, keep: str = "first") -> DataFrame:
        """The documents ``dedup`` removes: (doc, id, kept, jaccard, cluster, via, line), by dedup.plan's rules.

        Each near-duplicate cluster is planned by :func:`doublet.dedup.plan` in one group holding its members'
        texts and its near-duplicate pairs.
        """
        if keep not in dedup_rules.KEEP_POLICIES:
            raise ValueError(f"keep must be one of {', '.join(dedup_rules.KEEP_POLICIES)}, not {keep!r}")
        comp = self.near_dup_components
        members = comp.withColumnRenamed("node", "doc").join(I.shuffled(self.docs), "doc").select("root", "doc", "id", "text")
        dup_pairs = (self.reported.filter(F.col("kind") == _NEAR_DUP)
                     .join(I.shuffled(comp.withColumnRenamed("node", "doc_a")), "doc_a")
                     .select(F.col("root").alias("root"), "a", "b", "jaccard"))  # a new column: cogroup needs one
        return (members.groupBy("root").cogroup(dup_pairs.groupBy("root"))
                .applyInArrow(_on_cogroup(_plan_group, keep=keep, cfg=self.cfg), REMOVED_SCHEMA))

    def plan(self, keep: str = "first") -> tuple["KeptIds", list[dedup_rules.Removal]]:
        """Like :func:`doublet.dedup.plan` for the command line, which writes the kept records itself: collects
        the removals (one per removed document) to the driver."""
        removals = [dedup_rules.Removal(r.id, r.kept, r.jaccard, r.cluster, r.via)
                    for r in self.removed(keep).orderBy("doc").toLocalIterator()]
        return KeptIds({r.id for r in removals}, self.summary["counts"]["documents"]), removals

    def to_result(self) -> Result:
        """This run as a :class:`Result`, like the local engine's: its pairs in a file of a private working
        folder, its ids and clusters in the driver's memory (one row per document, read partition by partition).
        """
        work = WorkDir(self.cfg.tmp_dir)
        pairs_path = work.path / "pairs.jsonl"
        _write_lines(self.spark, self.reported.orderBy("a", "b").select("line"), str(pairs_path))
        rows = [(r["id"], r["cluster"], r["near_duplicate_cluster"]) for r in
                self.clusters.orderBy("doc").select(*CLUSTER_COLUMNS).toLocalIterator()]
        ids, clusters, dups = (list(c) for c in zip(*rows)) if rows else ([], [], [])
        return Result(ids=ids, clusters=clusters, near_duplicate_clusters=dups, problems=list(self.problems),
                      summary=self.summary, pairs_path=pairs_path, work=work, template_blocks=self.template_blocks,
                      templates=self.templates, n_new=self.n_new,
                      char_lengths=None if self.n_new is None else self._lengths())

    def write(self, outdir: str | Path, *, parquet: bool = False) -> str:
        """Write pairs.jsonl, clusters.jsonl, boilerplate.jsonl, templates.parquet and summary.json (and with
        ``parquet``, pairs.parquet/ and clusters.parquet/) into ``outdir``: a local folder or any Hadoop file
        system URI."""
        out = str(outdir).rstrip("/")
        _write_lines(self.spark, self.reported.orderBy("a", "b").select("line"), f"{out}/pairs.jsonl")
        _write_lines(self.spark, self.clusters.mapInArrow(_cluster_lines, "doc long, line string")
                     .orderBy("doc").select("line"), f"{out}/clusters.jsonl")
        _write_bytes(self.spark, f"{out}/boilerplate.jsonl",
                     "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in self.template_blocks).encode("utf-8"))
        if self.templates is not None:
            with tempfile.TemporaryDirectory(dir=self.cfg.tmp_dir) as tmp:  # written here, copied to outdir
                write_table(self.templates, self.template_ids, Path(tmp) / "t.parquet")
                _write_bytes(self.spark, f"{out}/templates.parquet", (Path(tmp) / "t.parquet").read_bytes())
        if self.n_new is not None:
            _write_bytes(self.spark, f"{out}/against.jsonl",
                         "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.against()).encode("utf-8"))
        if parquet:
            self.pairs.orderBy("a", "b").write.mode("overwrite").parquet(f"{out}/pairs.parquet")
            self.clusters.orderBy("doc").write.mode("overwrite").parquet(f"{out}/clusters.parquet")
        text = json.dumps(self.summary, ensure_ascii=False, indent=1) + "\n"
        _write_bytes(self.spark, f"{out}/summary.json", text.encode("utf-8"))
        return out

    def release(self) -> None:
        """Release what the run keeps cached on the executors except the pairs and clusters (after this,
        :meth:`removed` recomputes the documents from the input)."""
        keep = [obj for obj in self._cached if obj is self.verified or obj is self.reported or obj is self.clusters]
        for obj in self._cached:
            if not any(obj is k for k in keep):
                obj.unpersist()
        self._cached = keep

    def close(self) -> None:
        """Release what the run keeps cached on the executors."""
        for obj in self._cached:
            obj.unpersist()
        self._cached.clear()


class KeptIds:
    """The kept ids of a dedup run, as a set-like object: every document id but the removed ones."""

    def __init__(self, removed: set[str], documents: int):
        self.removed, self.documents = removed, documents

    def __contains__(self, doc_id: object) -> bool:
        return doc_id not in self.removed

    def __len__(self) -> int:
        return self.documents - len(self.removed)


class _Stages:
    """Times the stages and tags their Spark jobs (job groups) to read their shuffle sizes afterwards. With a
    ``progress``, each stage is shown as it runs, advanced by its Spark tasks as they complete (polled from
    Spark's status tracker every ``POLL_S`` seconds in a daemon thread)."""

    POLL_S = 0.5

    def __init__(self, spark: SparkSession, progress: Progress | None = None):
        self.sc = spark.sparkContext
        self.timings: dict[str, float] = {}
        self.t0 = self.t = time.perf_counter()
        self.name = ""
        self.prefix = f"doublet-{id(self)}-"
        self.caller = {k: self.sc.getLocalProperty(k) for k in ("spark.jobGroup.id", "spark.job.description")}
        self.progress = progress
        self._lock = threading.Lock()
        self._tasks_shown = 0
        self._poller: threading.Thread | None = None
        self._over = threading.Event()

    def start(self, name: str) -> None:
        self.stop()
        self.name, self.t = name, time.perf_counter()
        self.sc.setJobGroup(self.prefix + name, f"doublet: {name}")
        if self.progress is not None:
            with self._lock:
                self.progress.start(f"spark {name}", None)
                self._tasks_shown = 0
            if self._poller is None:
                self._poller = threading.Thread(target=self._poll, name="doublet-spark-progress", daemon=True)
                self._poller.start()

    def stop(self) -> None:
        if self.name:
            self.timings[self.name] = time.perf_counter() - self.t
            if self.progress is not None:
                with self._lock:
                    self._advance(self.name)
                    self.progress.done()
            self.name = ""
        for key, value in self.caller.items():  # the caller's job group, as it was
            self.sc.setLocalProperty(key, value)  # type: ignore[arg-type]

    def close(self) -> None:
        """Stop the progress poller (the run is over)."""
        self._over.set()

    def _poll(self) -> None:
        while not self._over.wait(self.POLL_S):
            with self._lock:
                if self.name:
                    try:
                        self._advance(self.name)
                    except Exception:  # noqa: BLE001 - progress is cosmetic: a closed context must not fail the run
                        return

    def _advance(self, name: str) -> None:
        """Advance the shown stage to the tasks its Spark jobs have completed so far (call with the lock)."""
        tracker, done = self.sc.statusTracker(), 0
        for job in tracker.getJobIdsForGroup(self.prefix + name):
            info = tracker.getJobInfo(job)
            for stage in info.stageIds if info else ():
                st = tracker.getStageInfo(stage)
                done += st.numCompletedTasks if st else 0
        if self.progress is not None and done > self._tasks_shown:
            self.progress.advance(done - self._tasks_shown)
            self._tasks_shown = done

    def shuffle_bytes(self) -> dict[str, dict[str, int]]:
        """Shuffle bytes written and read by each stage's jobs (Spark's status store), and its number of jobs."""
        tracker, store = self.sc.statusTracker(), self.sc._jsc.sc().statusStore()  # type: ignore[union-attr]
        out: dict[str, dict[str, int]] = {}
        for name in _STAGES:
            written = read = 0
            jobs = tracker.getJobIdsForGroup(self.prefix + name)
            for job in jobs:
                info = tracker.getJobInfo(job)
                for stage in info.stageIds if info else ():
                    try:
                        data = store.lastStageAttempt(stage)
                    except Exception:  # a skipped stage (its output was reused) has no attempt
                        continue
                    written += int(data.shuffleWriteBytes())
                    read += int(data.shuffleRemoteBytesRead()) + int(data.shuffleLocalBytesRead())
            out[name] = {"write": written, "read": read, "jobs": len(jobs)}
        return out


def run_documents(spark: SparkSession, docs: DataFrame, cfg: Config, *, problems: Sequence[InputProblem] = (),
                  partitions: int | None = None, stages: _Stages | None = None,
                  cached: list[Any] | None = None, split: int | None = None) -> SparkRun:
    """Find pairs and clusters among ``docs`` = (doc, id, text, site) rows, ``doc`` = 0..n-1 in input order,
    ``site`` = the document's site number (:func:`doublet.engines.spark_input.site_number`; 0 = none).
    ``split`` (``--against``): documents below it are NEW, the others REFERENCE; only pairs across it are made
    (:mod:`doublet.candidates`)."""
    stages = stages or _Stages(spark)
    cached = cached if cached is not None else []
    sc = spark.sparkContext
    parts = partitions or int(spark.conf.get("spark.sql.shuffle.partitions") or 200)

    # --- fingerprint
    stages.start("fingerprint")
    prints = I.persist(docs.mapInArrow(partial(_fingerprints, cfg=cfg), PRINTS_SCHEMA), cached)
    totals = prints.agg(F.count("*").alias("n"), F.sum("n_words").alias("words"), F.sum("n_chars").alias("chars")).first()
    n, n_words, n_chars = int(totals["n"]), int(totals["words"] or 0), int(totals["chars"] or 0)

    # --- LSH: per band, every row of a key bucket in one group
    stages.start("lsh")
    band_rows = prints.filter("has_sig").select("doc", F.posexplode("bands").alias("band", "key"))
    lsh = I.persist(band_rows.withColumn("bucket", F.pmod("key", F.lit(parts)))
                   .groupBy("band", "bucket").applyInArrow(_on_group(_lsh_group, max_bucket=cfg.max_bucket, split=split), "pair long")
                   .distinct(), cached)
    n_lsh = lsh.count()

    # --- fingerprint postings: the rows of a hash in one group, with its counts over all its documents
    stages.start("candidates")
    rules = Rules.of(cfg)
    user_bc = None
    if cfg.template_texts:
        user_bc = sc.broadcast(user_hashes(cfg.template_texts, cfg.shingle_size))
        cached.append(user_bc)
    fields = ("fp_hash", "fp_pos", "fp_flag") + (("fp_pb",) if rules.frequency else ())
    fp_rows = prints.select("doc", "site", F.explode(F.arrays_zip(*fields)).alias("f")).select(
        F.col("f.fp_hash").alias("hash"), "doc", F.col("f.fp_pos").alias("pos"), F.col("f.fp_flag").alias("flag"),
        F.col("site") if rules.site else F.lit(0).cast("long").alias("site"),
        *((F.col("f.fp_pb").alias("pb"),) if rules.frequency else ()))
    by_hash = fp_rows.withColumn("bucket", F.pmod("hash", F.lit(parts))).repartition(parts, "bucket")
    # Every window below is keyed by (bucket, hash[, doc]), which the shuffle by bucket already satisfies: one
    # shuffle, then sorts within partitions. A document votes with the shape flag of its first occurrence of a
    # hash (the row postings keeps of it); the counts that decide the template rule are taken over all of a
    # hash's documents (as the local engine's postings, which sees them all, takes them) and copied onto its
    # rows. Rows beyond a hash's first max_df + 1 documents cannot change what postings returns then (such a
    # hash proposes no pair, and its example is its first document) but could make one group too big for a
    # worker (site chrome in millions of documents): the JVM drops them before the group reaches Python.
    once = by_hash.withColumn("nth", F.row_number().over(Window.partitionBy("bucket", "hash", "doc").orderBy("pos"))
                              ).filter("nth = 1")
    per_hash = Window.partitionBy("bucket", "hash")
    counted = once.select(
        "bucket", "hash", "doc", "pos", "flag", *(("pb",) if rules.frequency else ()),
        F.count(F.lit(1)).over(per_hash).alias("df"),
        *(F.sum((F.col("flag") == f).cast("long")).over(per_hash).alias(c) for f, c in ((1, "votes"), (2, "weak"),
                                                                                         (3, "tail"))),
        F.min("site").over(per_hash).alias("site_lo"), F.max("site").over(per_hash).alias("site_hi"),
        F.row_number().over(per_hash.orderBy("doc")).alias("nth"))
    if rules.frequency:  # counted twice: here, and by the frequency rule over every row
        counted = I.persist(counted, cached)
    capped = counted.filter(F.col("nth") <= cfg.max_df + 1).drop("nth", *(("pb",) if rules.frequency else ()))
    post = I.persist(capped.groupBy("bucket").applyInArrow(
        _on_group(_postings_group, max_df=cfg.max_df, rules=rules, user=user_bc, split=split), POSTINGS_SCHEMA),
        cached)
    # small aggregates to the driver, one partition at a time: the templates (broadcast to verification, listed
    # in boilerplate.jsonl: the local engine holds them in memory too) and the df histogram
    templates, hist = _collect_templates(post)
    found, settled = post, None
    if rules.frequency:  # the fingerprints left pending, once every document's typical df is known
        settled = I.persist(_frequency_rule(spark, counted, post, templates, parts, cfg.max_df,
                                            cfg.common_df, cfg.rule.passage_words, split), cached)
        frequent, _ = _collect_templates(settled)
        counted.unpersist()
        settled_histogram(hist, frequent, cfg.max_df)
        templates = Templates.concat([templates, frequent])
        found = post.union(settled)
    occurrences = found.filter(F.col("kind") == OCCURRENCE).select(F.col("value").alias("pair"), "pos_a", "pos_b")
    n_occurrences = occurrences.count()
    fp = I.persist(occurrences.withColumn("bucket", F.pmod(F.xxhash64("pair"), F.lit(parts))).groupBy("bucket")
                   .applyInArrow(_on_group(_judge_group, min_shared=cfg.rule.min_shared, min_span=cfg.rule.min_span,
                                           shingle_size=cfg.shingle_size, drift=cfg.max_gap),
                                "pair long, shared long"), cached)
    n_fp = fp.count()
    cand = I.persist(lsh.union(fp.select("pair")).distinct(), cached)
    n_compared = cand.count()
    for df in (post, settled):
        if df is not None:
            df.unpersist()
    listed, example_ids = _template_blocks(spark, docs, templates, cfg)

    # --- verify and align: both texts joined to each pair
    stages.start("verify+align")
    templ_bc = sc.broadcast(templates.hashes)
    cached.append(templ_bc)
    ij = cand.select(F.shiftright("pair", 32).alias("i"), F.col("pair").bitwiseAND(0xFFFFFFFF).alias("j"))
    side = {s: docs.select(F.col("doc").alias(s), F.col("id").alias(f"id_{s}"), F.col("text").alias(f"text_{s}"))
            for s in ("i", "j")}
    verified = I.persist(ij.join(I.shuffled(side["i"]), "i").join(I.shuffled(side["j"]), "j")
                         .mapInArrow(partial(_verify, cfg=cfg, templates=templ_bc), PAIRS_SCHEMA), cached)
    reported = verified.filter(F.col("kind").isNotNull())
    is_pair = F.col("kind").isNotNull()
    got = verified.agg(F.sum(is_pair.cast("long")).alias("pairs"),
                       F.sum((F.col("kind") == _NEAR_DUP).cast("long")).alias("dup"),
                       F.sum(F.when(is_pair, F.size("passages"))).alias("passages"),
                       F.sum((~is_pair).cast("long")).alias("matches")).first()
    n_pairs, n_dup, n_passages = int(got["pairs"] or 0), int(got["dup"] or 0), int(got["passages"] or 0)
    n_matches = int(got["matches"] or 0)

    # --- clusters: graph 0 = clusters of copies (cluster.copy_clusters' edges), graph 1 = near-duplicate pairs
    stages.start("cluster")
    ids = docs.select("doc", "id")
    edges = G.copy_edges(reported, _NEAR_DUP, COPY_SHARE).select(F.lit(0).alias("g"), "u", "v").union(
        reported.filter(F.col("kind") == _NEAR_DUP).select(F.lit(1).alias("g"), "doc_a", "doc_b"))
    comp = I.persist(G.components(edges), cached)
    named = I.persist(G.named(comp, ids), cached)
    every = named.filter("g = 0").select("doc", "cluster", "size")
    dup = named.filter("g = 1").select("doc", F.col("cluster").alias("dup_cluster"))
    clusters = I.persist(
        ids.join(I.shuffled(every), "doc", "left").join(I.shuffled(dup), "doc", "left")
        .select("doc", "id", F.coalesce("cluster", "id").alias("cluster"),
                F.coalesce("size", F.lit(1)).alias("cluster_size"),
                F.coalesce("dup_cluster", "id").alias("near_duplicate_cluster")), cached)
    # source attribution, one cluster at a time (members cogrouped with every pair that has a member on one side:
    # a pair between two clusters goes to both)
    in_cluster = clusters.filter("cluster_size > 1").select(
        F.col("doc").alias("m_doc"), F.col("id").alias("m_id"), F.col("cluster").alias("m_cluster"))
    cluster_of = {s: clusters.select(F.col("doc").alias(f"doc_{s}"), F.col("cluster").alias(f"c_{s}")) for s in "ab"}
    pair_cluster = (reported.select("doc_a", "doc_b", "a", "b", "containment_a", "containment_b", "passages")
                    .join(I.shuffled(cluster_of["a"]), "doc_a").join(I.shuffled(cluster_of["b"]), "doc_b")
                    .select("a", "b", "containment_a", "containment_b", "passages",
                            F.explode(F.array_distinct(F.array("c_a", "c_b"))).alias("p_cluster")))
    attributed = in_cluster.groupBy("m_cluster").cogroup(pair_cluster.groupBy("p_cluster")) \
        .applyInArrow(_attribute_group, ATTRIBUTION_SCHEMA)
    clusters = I.persist(
        clusters.join(I.shuffled(attributed), clusters["doc"] == attributed["att_doc"], "left")
        .select("doc", "id", "cluster", "cluster_size", "near_duplicate_cluster",
                F.coalesce("original", F.lit(True)).alias("original"),
                F.when(F.col("cluster_size") == 1, F.lit(SINGLETON)).otherwise(F.col("original_reason"))
                .alias("original_reason")), cached)
    clusters.count()
    stats = {int(r["g"]): r for r in named.groupBy("g").agg(F.count("*").alias("nodes"),
                                                            F.countDistinct("cluster").alias("roots"),
                                                            F.max("size").alias("largest")).collect()}
    none = {"nodes": 0, "roots": 0, "largest": None}
    every_stats, dup_stats = stats.get(0, none), stats.get(1, none)
    comp_dup = comp.filter("g = 1").select("node", "root")
    stages.stop()
    stages.close()
    for df in (prints, lsh, fp, cand, named):
        df.unpersist()

    timings = dict(stages.timings)
    total = time.perf_counter() - stages.t0
    timings = {"read+fingerprint": timings.pop("read", 0.0) + timings.pop("fingerprint", 0.0), **timings,
               "total": total}
    actions = Counter((p.action, p.scope) for p in problems)
    rejected = actions[(D.REJECTED, "record")]
    counts = [n + rejected, n, rejected, actions[(D.REPAIRED, "record")], actions[(D.REJECTED, "file")], n_chars,
              n_words, n_pairs, n_dup, n_pairs - n_dup, n_passages, n - every_stats["nodes"] + every_stats["roots"],
              every_stats["roots"], every_stats["largest"] or min(n, 1), dup_stats["roots"],
              dup_stats["nodes"] - dup_stats["roots"]]
    found = [n_lsh, n_fp, n_occurrences, n_compared, dict(hist), len(templates)]
    summary: dict[str, Any] = {
        "doublet_version": __version__, "engine": "spark", "workers": sc.defaultParallelism,
        "counts": dict(zip(_COUNT_KEYS, counts, strict=True)),
        "candidates": dict(zip(_CANDIDATE_KEYS, found, strict=True)),
        "templates": {**template_summary(templates, len(listed)), "template_matches": n_matches},
        "parameters": cfg.to_dict(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "throughput": {"docs_per_s": round(n / total, 1) if total else None,
                       "mb_per_s": round(n_chars / 1e6 / total, 2) if total else None},
        "spark": {"version": spark.version, "master": sc.master, "partitions": parts,
                  "shuffle": stages.shuffle_bytes()},
        "problems": [p.to_dict() for p in problems],
    }
    if split is not None:
        summary["against"] = {"new": split, "reference": n - split}
    return SparkRun(spark, cfg, docs, reported, clusters, comp_dup, summary, list(problems), cached,
                    template_blocks=listed, verified=verified, templates=templates, template_ids=example_ids,
                    n_new=split)


# ------------------------------------------------------------------------------------------ inputs

def run_files(spark: SparkSession, inputs: Sequence[str], cfg: Config, *, id_field: str = "id",
              text_field: str = "text", partitions: int | None = None, site_field: str | None = None,
              progress: Progress | None = None, against: Sequence[str] | None = None) -> SparkRun:
    """Read ``inputs`` (JSON Lines and Parquet files, txt folders; local paths or Hadoop URIs) with Spark and
    run. Ids must be unique across inputs (the first wins), as with the local engine. ``site_field``: the JSON
    Lines field or Parquet column naming each record's site (``--site-field``). ``progress`` is shown each stage
    and its completed Spark tasks. ``against``: REFERENCE inputs, read after ``inputs`` (NEW): only pairs of a
    NEW and a REFERENCE document (``find --against``)."""
    stages, cached = _Stages(spark, progress), []
    stages.start("read")
    spec = D._make_spec(id_field, text_field, cfg.max_chars, False, site_field=site_field)
    docs, problems, firsts = I.read_files(spark, [*inputs, *(against or ())], spec, cached, first_docs=True)
    split = None if against is None else firsts[len(inputs)]
    return run_documents(spark, docs, cfg, problems=problems, partitions=partitions, stages=stages, cached=cached,
                         split=split)


def run_frame(df: DataFrame, cfg: Config, *, id_col: str = "id", text_col: str = "text",
              partitions: int | None = None, site_col: str | None = None) -> SparkRun:
    """Run on a DataFrame with an id and a text column, in its own row order (partition by partition);
    ``site_col`` (optional) names the column of each row's site (a URL, host or site name)."""
    stages, cached = _Stages(df.sparkSession), []
    stages.start("read")
    docs, problems = I.read_frame(df, D._make_spec(id_col, text_col, cfg.max_chars, False, site_field=site_col),
                                  cached)
    return run_documents(df.sparkSession, docs, cfg, problems=problems, partitions=partitions, stages=stages,
                         cached=cached)


# ------------------------------------------------------------------------------------------ output files

def _is_local(path: str) -> bool:
    return "://" not in path and not path.startswith("file:")


def _write_lines(spark: SparkSession, lines: DataFrame, target: str) -> None:
    """Write a one-column DataFrame of lines, in its order, as one text file (parts written by Spark, then
    concatenated in partition order)."""
    tmp = f"{target}.parts"
    lines.write.mode("overwrite").text(tmp if not _is_local(tmp) else Path(tmp).resolve().as_uri())
    if _is_local(target):
        parts = sorted(p for p in Path(tmp).iterdir() if p.name.startswith("part-"))
        with open(target, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while chunk := f.read(1 << 20):
                        out.write(chunk)
        for p in Path(tmp).iterdir():
            p.unlink()
        Path(tmp).rmdir()
        return
    jvm, conf = spark._jvm, spark._jsc.hadoopConfiguration()  # type: ignore[union-attr]
    src = jvm.org.apache.hadoop.fs.Path(tmp)
    fs = src.getFileSystem(conf)
    names = sorted(str(st.getPath().getName()) for st in fs.listStatus(src) if st.getPath().getName().startswith("part-"))
    out = fs.create(jvm.org.apache.hadoop.fs.Path(target), True)
    try:
        for name in names:
            inp = fs.open(jvm.org.apache.hadoop.fs.Path(src, name))
            jvm.org.apache.hadoop.io.IOUtils.copyBytes(inp, out, conf, False)
            inp.close()
    finally:
        out.close()
    fs.delete(src, True)


def _write_bytes(spark: SparkSession, target: str, data: bytes) -> None:
    if _is_local(target):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(data)
        return
    jvm = spark._jvm  # type: ignore[union-attr]
    path = jvm.org.apache.hadoop.fs.Path(target)
    out = path.getFileSystem(spark._jsc.hadoopConfiguration()).create(path, True)  # type: ignore[union-attr]
    try:
        out.write(bytearray(data))
    finally:
        out.close()


# ------------------------------------------------------------------------------------------ the session

#: Spark keeps each SQL execution's plan as text for its UI; the engine's plans (dozens of joins, unions and
#: Arrow UDFs) print to megabytes, and a local driver that keeps a few hundred of them runs out of heap.
PLAN_STRING_CHARS = "200k"


QUIET_LOG4J = Path(__file__).with_name("log4j2-quiet.properties")
"""The log4j2 configuration of a driver that :func:`session` starts: errors only (Java's WARN lines stay off the
terminal unless ``verbose``)."""


def session(cfg: Config, *, verbose: bool = False) -> SparkSession:
    """The active Spark session, or one for the command line: the master of ``spark-submit`` when run under
    it, else ``local[workers]`` (executors run this Python). A driver started here logs errors only, or Spark's
    default (warnings and up) when ``verbose``."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("doublet")
    if not verbose and QUIET_LOG4J.is_file():
        builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{QUIET_LOG4J}")
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit: a local session
        builder = (builder.master(f"local[{cfg.workers}]")
                   .config("spark.sql.shuffle.partitions", str(max(8, 4 * cfg.workers)))
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.maxPlanStringLength", PLAN_STRING_CHARS)
                   .config("spark.sql.ui.retainedExecutions", "100")
                   .config("spark.driver.memory", os.environ.get("DOUBLET_SPARK_DRIVER_MEMORY", "4g")))
        if cfg.tmp_dir:
            builder = builder.config("spark.local.dir", cfg.tmp_dir)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN" if verbose else "ERROR")
    return spark


__all__ = ["SparkRun", "KeptIds", "check_inputs", "run_documents", "run_files", "run_frame", "session"]
