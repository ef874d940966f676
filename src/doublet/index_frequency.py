"""The frequency rule in the persistent index, kept exact as documents arrive and are replaced.

``doublet find`` decides the frequency rule (:mod:`doublet.template`) once, over the whole corpus: a content
fingerprint held by ``OUTLIER_MIN_DF`` or more documents is a ``FREQUENCY`` template when, in at least half of
them, it is an *outlier* — far more common than that document's text (df >= 2 x the document's *typical df*,
the median df bucket of its content fingerprints) and beyond its *own text* (outside the span of the 10th-90th
percentile positions of its content fingerprints held by fewer than ``OUTLIER_MIN_DF`` documents). A
document's typical df and own text depend on the dfs of its fingerprints, which other documents change, so the
index keeps what decides the rule and updates it with every change, in the write's transaction:

* per document (table ``docfreq``): its length in words and its two histograms — content fingerprints by df
  bucket (:func:`doublet.template.df_bucket`) and own-text fingerprints by position bucket
  (:func:`doublet.template.pos_bucket`), as :func:`doublet.candidates.postings` counts them
  (``doc_buckets``/``doc_own``); the typical df and own-text span are :func:`doublet.template.typical_df` and
  :func:`doublet.template.own_text_span` of them;
* per fingerprint held by ``OUTLIER_MIN_DF`` documents or more and content by every other rule (``hashes.outl``):
  how many of its documents hold it as an outlier (:func:`doublet.template.outlier_rows`); its rule is
  ``FREQUENCY`` when :func:`doublet.template.frequent` says so.

What a change (:func:`apply`: rows added by the documents of a batch, rows removed by the ones it replaces)
does, exactly:

1. A touched fingerprint whose *class* changes — content or not, its df bucket, own text (df below
   ``OUTLIER_MIN_DF``) or not — moves one count in the histograms of every other document holding it (its
   rows are read). The batch's documents get their histograms from scratch.
2. Documents whose typical df or own-text span changed (the *moved* documents) change their outlier bits on
   their deferred fingerprints: each such fingerprint's ``outl`` is adjusted by the difference (the moved
   documents' fingerprints and positions are read).
3. A touched deferred fingerprint adds the outlier bits of its new rows and subtracts those of its removed rows
   (with the replaced documents' old typical df and span). Its other documents' bits depend on its df only
   through ``df >= 2 x typical``, and typical dfs take few values (:func:`doublet.template.typical_levels`):
   when its df crosses ``2 x`` one of them, or it has just become deferred, its ``outl`` is counted again
   from all its rows.

Steps 1 and 3's recounts happen at df bucket and threshold crossings, which are geometric in df, so their
cost per fingerprint row is bounded as a corpus grows. Outside queries use the same function without writing
(the query as a batch of one document, after every indexed one: :class:`StoredSource` without ``below``): what
it turns template or content, on its own fingerprints and on its neighbours', is what adding it would do.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .template import (CONTENT, DF_BUCKETS, FREQUENCY, OUTLIER_MIN_DF, POS_BUCKETS, df_bucket, far_more_common,
                       frequent, outlier_rows, own_text_span, pos_bucket, typical_df, typical_levels)

WIDTH = DF_BUCKETS + POS_BUCKETS
"""A document's stored histograms: DF_BUCKETS df-bucket counts, then POS_BUCKETS own-text position counts."""
_LEVELS = typical_levels()


def params(hist: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Typical df, own-text span low and high bucket of documents from their stored histograms (n, WIDTH)."""
    hist = np.asarray(hist, np.int64).reshape(-1, WIDTH)
    lo, hi = own_text_span(hist[:, DF_BUCKETS:])
    return typical_df(hist[:, :DF_BUCKETS]), lo, hi


def deferred(df: np.ndarray, rule: np.ndarray) -> np.ndarray:
    """Fingerprints the frequency rule decides (``rule`` as stored: content or frequency; or the rule before the
    frequency rule)."""
    rule = np.asarray(rule)
    return ((rule == CONTENT) | (rule == FREQUENCY)) & (np.asarray(df) >= OUTLIER_MIN_DF)


class Source(Protocol):
    """What :func:`apply` reads: the stored rows of documents outside the change, the rest as it was before."""

    def rows(self, hashes: np.ndarray) -> np.ndarray:
        """(n, 3) int64 hash, doc, pos of the rows of the sorted ``hashes`` (at least every row of a document
        outside the change; rows of the change's documents may come too: they are dropped)."""

    def docs(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stored words (n,) and histograms (n, WIDTH) of the sorted ``docs`` (zeros for unknown ones)."""

    def prints(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """hash, doc, pos of every stored fingerprint of the given (unchanged) documents."""

    def states(self, hashes: np.ndarray) -> np.ndarray:
        """(n, 3) int64 df, rule, outl of the sorted ``hashes`` that are :func:`deferred` (zeros for others)."""


@dataclass(frozen=True, slots=True)
class Change:
    """What a batch changes: its touched fingerprints before and after, and its rows."""

    hashes: np.ndarray  # int64, sorted unique: every hash with an added or removed row
    df_old: np.ndarray  # int64 (0: new)
    rule_old: np.ndarray  # int64, as stored (FREQUENCY included)
    outl_old: np.ndarray  # int64
    df_new: np.ndarray  # int64 (0: gone)
    rule_new: np.ndarray  # int64: the rule before the frequency rule (template.decide, user texts)
    added: np.ndarray  # (n, 3) int64 hash, doc, pos: the batch's documents' rows
    removed: np.ndarray  # (n, 3) int64 hash, doc, pos: rows of replaced documents' old texts
    batch: np.ndarray  # int64 sorted: the batch's documents (their histograms made from scratch)
    words: np.ndarray  # int64 per batch document: its length in words


@dataclass(frozen=True, slots=True)
class Outcome:
    """The frequency rule after a change: the touched fingerprints' outlier counts and final rules, other
    fingerprints whose counts or rules changed, and the documents whose histograms changed."""

    outl: np.ndarray  # per touched hash
    rule: np.ndarray  # per touched hash: final (FREQUENCY where the rule says so)
    other_hashes: np.ndarray  # int64 sorted: untouched fingerprints whose outl changed
    other_outl: np.ndarray
    other_rule: np.ndarray
    other_rule_old: np.ndarray
    docs: np.ndarray  # int64 sorted: documents whose words or histograms are new
    words: np.ndarray
    hist: np.ndarray  # (n, WIDTH) int64


def _find(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_keys, values)


def apply(src: Source, ch: Change) -> Outcome:
    """The frequency rule's counts and decisions after the change ``ch`` (see the module docstring)."""
    h = ch.hashes
    r0_old = np.where(ch.rule_old == FREQUENCY, CONTENT, ch.rule_old)
    c_old, c_new = (ch.df_old > 0) & (r0_old == CONTENT), (ch.df_new > 0) & (ch.rule_new == CONTENT)
    b_old, b_new = df_bucket(ch.df_old).astype(np.int64), df_bucket(ch.df_new).astype(np.int64)
    own_old, own_new = c_old & (ch.df_old < OUTLIER_MIN_DF), c_new & (ch.df_new < OUTLIER_MIN_DF)
    def_old, def_new = c_old & ~own_old, c_new & ~own_new
    moved_h = (c_old != c_new) | (c_old & (b_old != b_new))  # its df bucket in other documents' histograms
    moved_o = own_old != own_new  # in or out of their own text
    crossed = (far_more_common(ch.df_old[:, None], _LEVELS[None, :]) !=
               far_more_common(ch.df_new[:, None], _LEVELS[None, :])).any(axis=1)
    recount = def_new & (~def_old | crossed)

    # rows: other documents' rows of the fingerprints whose other documents matter, and the batch's own
    ka = _find(h, ch.added[:, 0])
    n_added = np.bincount(ka, minlength=h.shape[0])
    elsewhere = ch.df_new - n_added > 0  # held by documents outside the batch
    other = src.rows(h[(moved_h | moved_o | recount) & elsewhere])
    other = other[~np.isin(other[:, 1], ch.batch)]
    rows = np.concatenate([other, ch.added[recount[ka]]])  # every row of a recounted fingerprint
    kr = _find(h, rows[:, 0])
    shift = np.zeros(rows.shape[0], bool)
    shift[:other.shape[0]] = (moved_h | moved_o)[kr[:other.shape[0]]]
    moved_docs = np.unique(rows[shift, 1])

    # documents: stored histograms, then the shifts and the batch's own
    need = np.unique(np.concatenate([moved_docs, ch.batch, rows[recount[kr], 1]]))
    words_old, hist_old = src.docs(need)
    words, hist = words_old.copy(), hist_old.copy()
    at_b = _find(need, ch.batch)
    words[at_b] = ch.words
    hist[at_b] = 0
    k, di = kr[shift], _find(need, rows[shift, 1])
    pb = pos_bucket(rows[shift, 2], words[di]).astype(np.int64) + DF_BUCKETS
    for sel, col, step in ((moved_h[k] & c_old[k], b_old[k], -1), (moved_h[k] & c_new[k], b_new[k], 1),
                           (moved_o[k] & own_old[k], pb, -1), (moved_o[k] & own_new[k], pb, 1)):
        np.add.at(hist, (di[sel], col[sel]), step)
    da = _find(need, ch.added[:, 1])
    sel = c_new[ka]
    np.add.at(hist, (da[sel], b_new[ka][sel]), 1)
    sel = own_new[ka]
    np.add.at(hist, (da[sel], pos_bucket(ch.added[sel, 2], words[da[sel]]).astype(np.int64) + DF_BUCKETS), 1)
    typ_old, lo_old, hi_old = params(hist_old)
    typ, lo, hi = params(hist)
    in_batch = np.zeros(need.shape[0], bool)
    in_batch[at_b] = True
    moved = ~in_batch & ((typ != typ_old) | (lo != lo_old) | (hi != hi_old))
    changed = in_batch | (hist != hist_old).any(axis=1)

    # outlier counts of the touched fingerprints: recounted, or adjusted by the batch's rows
    outl = np.where(def_new & ~recount, ch.outl_old, 0)
    sel = recount[kr]
    if sel.any():
        bits = outlier_rows(ch.df_new[kr[sel]], _find(need, rows[sel, 1]), rows[sel, 2], typ, lo, hi, words)
        outl[recount] = np.bincount(kr[sel], weights=bits, minlength=h.shape[0]).astype(np.int64)[recount]
    adjust = def_new & ~recount
    sel = adjust[ka]
    if sel.any():
        bits = outlier_rows(ch.df_new[ka[sel]], da[sel], ch.added[sel, 2], typ, lo, hi, words)
        np.add.at(outl, ka[sel], bits.astype(np.int64))
    if ch.removed.shape[0]:
        kx = _find(h, ch.removed[:, 0])
        sel = adjust[kx]
        if sel.any():  # a replaced document's old rows, with its old typical df and span
            bits = outlier_rows(ch.df_new[kx[sel]], _find(need, ch.removed[sel, 1]), ch.removed[sel, 2], typ_old,
                                lo_old, hi_old, words_old)
            np.add.at(outl, kx[sel], -bits.astype(np.int64))

    # documents that moved: their deferred fingerprints' bits, before and after
    other_h = np.empty(0, np.int64)
    other_outl = other_rule = other_rule_old = np.empty(0, np.int64)
    if moved.any():
        ph, pd, pp = src.prints(need[moved])
        dm = _find(need, pd)
        kt = np.minimum(_find(h, ph), max(h.shape[0] - 1, 0))
        mine = h[kt] == ph if h.shape[0] else np.zeros(ph.shape[0], bool)
        sel = mine.copy()
        sel[mine] = adjust[kt[mine]]
        if sel.any():
            df = ch.df_new[kt[sel]]
            diff = (outlier_rows(df, dm[sel], pp[sel], typ, lo, hi, words).astype(np.int64)
                    - outlier_rows(df, dm[sel], pp[sel], typ_old, lo_old, hi_old, words_old))
            np.add.at(outl, kt[sel], diff)
        rest = ~mine
        if rest.any():
            uo = np.unique(ph[rest])
            st = src.states(uo)
            keep = deferred(st[:, 0], st[:, 1])
            ko = _find(uo, ph[rest])
            sel = keep[ko]
            if sel.any():
                rows_o = np.flatnonzero(rest)[sel]
                df = st[ko[sel], 0]
                diff = (outlier_rows(df, dm[rows_o], pp[rows_o], typ, lo, hi, words).astype(np.int64)
                        - outlier_rows(df, dm[rows_o], pp[rows_o], typ_old, lo_old, hi_old, words_old))
                delta = np.bincount(ko[sel], weights=diff, minlength=uo.shape[0]).astype(np.int64)
                hit = keep & (delta != 0)
                other_h = uo[hit]
                other_outl = st[hit, 2] + delta[hit]
                other_rule_old = st[hit, 1]
                other_rule = np.where(frequent(st[hit, 0], other_outl), FREQUENCY, CONTENT)

    rule = ch.rule_new.copy()
    rule[def_new & frequent(ch.df_new, outl)] = FREQUENCY
    return Outcome(outl, rule, other_h, other_outl, other_rule, other_rule_old, need[changed], words[changed],
                   hist[changed])


# ------------------------------------------------------------------------------------------ sources

def _select(con: sqlite3.Connection, sql: str, values: np.ndarray, width: int) -> np.ndarray:
    from .index_store import select_array

    return select_array(con, sql, values, width)


class StoredSource:
    """:class:`Source` over the index's tables, inside a transaction (during a write, the batch's rows are in
    ``fp`` already, its new documents numbered from ``below`` on; ``docfreq`` and ``hashes`` still hold what
    they were before it). An outside query is a change of nothing stored."""

    def __init__(self, con: sqlite3.Connection, below: int | None = None) -> None:
        self.con = con
        self.below = below

    def rows(self, hashes: np.ndarray) -> np.ndarray:
        if not hashes.shape[0]:
            return np.empty((0, 3), np.int64)
        if self.below is None:
            return _select(self.con, "SELECT hash, doc, pos FROM fp WHERE hash IN ({in})", hashes, 3)
        return _select(self.con, f"SELECT hash, doc, pos FROM fp WHERE doc < {int(self.below)} AND hash IN ({{in}})",
                       hashes, 3)

    def docs(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        words = np.zeros(docs.shape[0], np.int64)
        hist = np.zeros((docs.shape[0], WIDTH), np.int64)
        if docs.shape[0]:
            from .index_store import select_in

            got = select_in(self.con, "SELECT doc, words, hist FROM docfreq WHERE doc IN ({in})", docs.tolist())
            if got:
                at = _find(docs, np.array([r[0] for r in got], np.int64))
                words[at] = [r[1] for r in got]
                hist[at] = np.frombuffer(b"".join(bytes(r[2]) for r in got), np.int32).reshape(-1, WIDTH)
        return words, hist

    def prints(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from .index_store import select_in

        got = select_in(self.con, "SELECT doc, fps, pos FROM docs WHERE doc IN ({in})", docs.tolist())
        h = [np.frombuffer(f, np.int64) for _, f, _ in got]
        p = [np.frombuffer(q, np.uint32).astype(np.int64) for _, _, q in got]
        d = [np.full(x.shape[0], r, np.int64) for (r, _, _), x in zip(got, h)]
        if not got:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(h), np.concatenate(d), np.concatenate(p)

    def states(self, hashes: np.ndarray) -> np.ndarray:
        out = np.zeros((hashes.shape[0], 3), np.int64)
        if hashes.shape[0]:
            got = _select(self.con, f"SELECT hash, df, rule, outl FROM hashes WHERE hash IN ({{in}}) AND df >= "
                                    f"{OUTLIER_MIN_DF} AND rule IN ({CONTENT}, {FREQUENCY})", hashes, 4)
            out[_find(hashes, got[:, 0])] = got[:, 1:]
        return out
