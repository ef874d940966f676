"""Queries of the persistent index: candidates, verification, pairs, clusters and templates, computed by the stage
functions every engine uses. Storage is :mod:`doublet.index_store`; the public class is
:class:`doublet.index.Index`.

How a batch of queries is answered (:meth:`Searcher.candidates`, then :meth:`Searcher.compare`):

1. **Counts.** Each query's distinct fingerprints are looked up in ``hashes``. Queries that are indexed documents
   use the stored counts; a query that is not (an *outside* query) is answered as if it had been added, alone:
   its own row is added to the counts of its fingerprints (df + 1, its shape flag, its site). Fingerprints are
   paired with their *group* — the indexed queries of the batch together, each outside query on its own — and
   every (group, fingerprint) gets a number, so one call of the stage functions serves the whole batch with each
   group's own counts.
2. **Template rules.** Indexed queries see the stored rules. For an outside query, :func:`doublet.template.decide`
   and the user's texts decide its fingerprints' rules from those counts, as every write does
   (:meth:`doublet.index_store.Store.decide`), then the frequency rule is settled as adding the query would
   settle it (:func:`doublet.index_frequency.apply`, nothing written): on its own fingerprints, and on the
   fingerprints of indexed documents whose typical df or own text the query moves (masked or unmasked in
   step 5).
3. **Fingerprint candidates.** The rows of the content fingerprints a pair can come from (found in 2..``max_df``
   documents, counting the query) are read from ``fp``; :func:`doublet.candidates.postings` makes the pair
   occurrences of the queries' pairs (``anchors``: the queries) and :func:`doublet.candidates.supported_pairs`
   keeps the pairs find keeps (shared count, spread, band of diagonals).
4. **LSH candidates.** The band rows of the queries' buckets (an outside query joining each of its buckets, last)
   go through :func:`doublet.candidates.lsh_pairs` (small buckets pair all members, big ones a star from their
   first-added member), keeping the pairs with a query.
5. **Verification.** :func:`doublet.analysis.compare_prepared` in id order, with each document's words masked by
   the template set — the index's, changed on the fingerprints an outside query turns template or content
   (its own, and its neighbours' by the frequency rule).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import PairResult, Prepared, compare_prepared, prepare, template_spans
from .candidates import (HashStats, common, lone_rows, lsh_pairs, pair_keys, postings, ranges, split_keys,
                         supported_pairs)
from .cluster import COPY_SHARE, cluster_ids, cluster_index, copy_clusters, id_order
from .documents import Document
from . import index_frequency as frequency
from .index_store import Snapshot, Store, dec, i64, prints_job, sha
from .template import CONTENT, FREQUENCY, RULES, Templates, blocks, site_key, site_of
from .template import summary as template_summary

_CACHE_DOCS = 4096  # prepared documents kept between calls
_UNKNOWN_SITE = 1 << 40  # site number of an outside query whose site no indexed document has


# ------------------------------------------------------------------------------------------ results

@dataclass(frozen=True, slots=True)
class MatchPassage:
    """``query_text[query_start:query_end]`` is reused as ``match_text[match_start:match_end]``."""

    query_start: int
    query_end: int
    match_start: int
    match_end: int
    identity: float | None = None  # share of its words in verbatim runs (:attr:`doublet.align.Passage.identity`)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"query_start": self.query_start, "query_end": self.query_end,
                               "match_start": self.match_start, "match_end": self.match_end}
        if self.identity is not None:
            out["identity"] = self.identity
        return out


@dataclass(frozen=True, slots=True)
class Match:
    """An indexed document that a query reuses (or is a near-duplicate of), with the reused passages."""

    query: str
    match: str
    kind: str  # "near-duplicate" | "reuse"
    jaccard: float
    containment_query: float  # share of the query's word shingles found in the match
    containment_match: float  # share of the match's word shingles found in the query
    passages: tuple[MatchPassage, ...]
    level: str | None = None  # verbatim | light | heavy (:attr:`doublet.analysis.PairResult.level`)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "match": self.match, "kind": self.kind, "level": self.level,
                "jaccard": round(self.jaccard, 4),
                "containment_query": round(self.containment_query, 4),
                "containment_match": round(self.containment_match, 4),
                "passages": [p.to_dict() for p in self.passages]}

    @staticmethod
    def from_pair(pair: PairResult, query: str, query_is_a: bool) -> Match:
        if query_is_a:
            match, cq, cm = pair.b, pair.containment_a, pair.containment_b
            ps = [MatchPassage(p.a_start, p.a_end, p.b_start, p.b_end, p.identity) for p in pair.passages]
        else:
            match, cq, cm = pair.a, pair.containment_b, pair.containment_a
            ps = [MatchPassage(p.b_start, p.b_end, p.a_start, p.a_end, p.identity) for p in pair.passages]
        ps.sort(key=lambda p: (p.query_start, p.match_start))
        return Match(query, match, pair.kind or "", pair.jaccard, cq, cm, tuple(ps), pair.level)


@dataclass(frozen=True, slots=True)
class IndexCluster:
    """The cluster of copies that holds one document (like find's ``clusters.jsonl``: components of near-duplicate
    pairs and of pairs where one document is mostly the other's text; a document in no such pair joins the
    document it shares most with, see :func:`doublet.cluster.copy_clusters`)."""

    id: str
    cluster: str  # smallest id of the cluster
    near_duplicate_cluster: str  # smallest id of the document's component of near-duplicate pairs
    members: list[str]  # sorted
    pairs: list[PairResult]  # the reporting pairs among the members, sorted by (a, b)
    complete: bool  # False when the search stopped at max_members

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cluster": self.cluster, "cluster_size": len(self.members),
                "near_duplicate_cluster": self.near_duplicate_cluster, "members": self.members,
                "complete": self.complete}


# ------------------------------------------------------------------------------------------ queries

@dataclass(slots=True)
class Query:
    """One query of a batch: an indexed document (``external`` False, ``doc`` its row number) or an outside
    text, answered as if it were added last (``doc`` a number after every row)."""

    id: str
    text: str
    doc: int
    external: bool
    fps: np.ndarray  # int64 distinct fingerprint hashes, ascending
    bands: np.ndarray  # int64 band keys (empty: no words)
    pos: np.ndarray | None = None  # outside queries: where each fingerprint first starts
    shapes: np.ndarray | None = None  # outside queries: the shape flag of that first occurrence
    site: int = 0  # outside queries: site number (0 none)
    words: int = 0  # outside queries: length in words


class _RowCache:
    """The stored rows (hash, doc, pos) of some fingerprints, read once for a batch's outside queries and served to
    the frequency step and to the candidates; others are read when asked for."""

    def __init__(self, store: Store, con: Any, hashes: np.ndarray) -> None:
        self.store, self.con, self.hashes = store, con, hashes
        self.rows = store.fp_rows(con, hashes) if hashes.shape[0] else np.empty((0, 3), np.int64)

    def get(self, hashes: np.ndarray) -> np.ndarray:
        """Rows of the sorted unique ``hashes``, sorted by (hash, doc)."""
        have = np.isin(hashes, self.hashes)
        got = self.rows[np.isin(self.rows[:, 0], hashes[have])]
        if have.all():
            return got
        more = self.store.fp_rows(self.con, hashes[~have])
        rows = np.concatenate([got, more])
        return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


class _CachedSource(frequency.StoredSource):
    """The frequency step's source for outside queries, its rows from a :class:`_RowCache`."""

    def __init__(self, con: Any, cache: _RowCache) -> None:
        super().__init__(con)
        self.cache = cache

    def rows(self, hashes: np.ndarray) -> np.ndarray:
        return self.cache.get(hashes)


@dataclass(frozen=True, slots=True)
class Decisions:
    """The template rules a batch's queries see on their own fingerprints."""

    group: np.ndarray  # per (group, hash): 0 = the indexed queries, k + 1 = outside query k
    hash: np.ndarray  # int64
    rule: np.ndarray  # uint8, 0 = content
    stored_rule: np.ndarray  # int64: the rule the index holds
    stats: np.ndarray  # (n, 6) df, votes, weak, tail, site_lo, site_hi (the query counted)
    extra: dict[int, tuple[np.ndarray, np.ndarray]]  # outside query k: other fingerprints it turns template, content
    rows: _RowCache | None = None  # fingerprint rows read for the outside queries, for the candidates too

    def of(self, k: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Outside query ``k`` (None: the indexed queries): its template hashes and rules (sorted, uint64/uint8),
        and the hashes it turns template and content (uint64)."""
        sel = self.group == (0 if k is None else k + 1)
        h, r, s = self.hash[sel], self.rule[sel], self.stored_rule[sel]
        t = r != CONTENT
        order = np.argsort(h[t].view(np.uint64))
        on = np.sort(h[t & (s == CONTENT)].view(np.uint64))
        off = np.sort(h[~t & (s != CONTENT)].view(np.uint64))
        if k is not None and k in self.extra:  # its neighbours' fingerprints that the frequency rule turns
            on, off = np.union1d(on, self.extra[k][0]), np.union1d(off, self.extra[k][1])
        return h[t].view(np.uint64)[order], r[t][order], on, off


@dataclass(frozen=True, slots=True)
class _Cached:
    """A prepared document: valid at generation ``gen`` for the text whose hash is ``sha`` and the template
    hashes ``hits`` among its fingerprints."""

    gen: str
    sha: bytes
    hits: np.ndarray
    prepared: Prepared


class _SharedTemplates:
    """The template hashes of the latest template generation read, per index (its folder and creation time),
    shared by the Index objects of a process (a server's readers): read from SQLite once per generation, not
    once per connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[tuple[Path, str], tuple[str, np.ndarray]] = {}

    def get(self, key: tuple[Path, str], gen: str, load: Any) -> np.ndarray:
        with self._lock:
            got = self._latest.get(key)
            if got is not None and got[0] == gen:
                return got[1]
            templ = load()
            if got is None or int(gen) >= int(got[0]):
                self._latest[key] = (gen, templ)
            return templ


_TEMPLATES = _SharedTemplates()
_REPORTS = _SharedTemplates()  # (summary, blocks) of the latest generation read, per index


def _hits(fps: np.ndarray, templ: np.ndarray) -> np.ndarray:
    """The hashes of ``fps`` (uint64) found in the sorted ``templ``, sorted."""
    if not templ.shape[0] or not fps.shape[0]:
        return np.empty(0, np.uint64)
    k = np.searchsorted(templ, fps)
    k[k == templ.shape[0]] = 0
    return np.unique(fps[templ[k] == fps])


class Searcher:
    """Queries over a :class:`Store`, with a cache of prepared documents and the template set."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.config = store.config
        self._gen: str | None = None
        self._tgen: str | None = None
        self._templates = np.empty(0, np.uint64)
        self._cache: OrderedDict[int, _Cached] = OrderedDict()
        self.cache_size = _CACHE_DOCS

    def clear(self) -> None:
        self._cache.clear()

    def refresh(self, snap: Snapshot) -> None:
        """Follow the snapshot's generation: reload the template set when it changed (shared per process)."""
        if snap.template_generation != self._tgen:
            self._templates = _TEMPLATES.get((self.store.path.resolve(), snap.created), snap.template_generation,
                                             lambda: self.store.template_hashes(snap.con))
            self._tgen = snap.template_generation
        self._gen = snap.generation

    # --- resolving queries

    def queries(self, snap: Snapshot, batch: Sequence[Document]) -> list[Query]:
        """Resolve a batch of documents: indexed ones (same id and text) or outside ones (fingerprinted)."""
        con = snap.con
        stored = self.store.docs_by_id(con, [d.id for d in batch])
        out: list[Query | None] = []
        outside: list[int] = []
        for d in batch:
            hit = stored.get(d.id.encode("utf-8", "surrogatepass"))
            if hit is not None and hit[1] == sha(d.text.encode("utf-8", "surrogatepass")):
                out.append(Query(d.id, d.text, hit[0], False, i64(hit[3]), i64(hit[5])))
            else:
                out.append(None)
                outside.append(len(out) - 1)
        if outside:
            base = int(con.execute("SELECT COALESCE(MAX(doc), 0) FROM docs").fetchone()[0]) + 1
            pr = prints_job([batch[k].text for k in outside], self.config)
            bounds = pr.bounds()
            sites = self.store.site_numbers(con, [site_key(site_of(batch[k])) for k in outside])
            for j, k in enumerate(outside):
                bands = pr.keys[j] if pr.has_sig[j] else np.empty(0, np.int64)
                lo, hi = bounds[j], bounds[j + 1]
                out[k] = Query(batch[k].id, batch[k].text, base + j, True, pr.hashes[lo:hi], bands,
                               pr.positions[lo:hi], pr.shapes[lo:hi], _UNKNOWN_SITE if sites[j] < 0 else sites[j],
                               int(pr.words[j]))
        return out  # type: ignore[return-value]

    def indexed(self, snap: Snapshot, rowids: Sequence[int]) -> list[Query]:
        """Indexed documents as queries (their texts are not read)."""
        rows = snap.con.execute(f"SELECT doc, id, fps, bands FROM docs WHERE doc IN ({','.join('?' * len(rowids))})",
                                list(rowids)).fetchall() if rowids else []
        return [Query(dec(i), "", int(r), False, i64(f), i64(b)) for r, i, f, b in rows]

    # --- candidates

    def decisions(self, snap: Snapshot, queries: Sequence[Query]) -> Decisions:
        """The rule of every (group, fingerprint) of a batch (step 1-2 of the module docstring)."""
        # one row per (group, fingerprint): the indexed queries' fingerprints once (group 0: counts as stored),
        # then each outside query's own rows (its counts added)
        ext = [queries[k] for k, q in enumerate(queries) if q.external]
        own = [q.fps for q in queries if not q.external]
        ih = np.unique(np.concatenate(own)) if own else np.empty(0, np.int64)
        n = np.array([q.fps.shape[0] for q in ext], np.int64)

        def column(parts: list[Any], dtype: Any) -> np.ndarray:
            return np.concatenate([np.zeros(ih.shape[0], dtype), *parts]).astype(dtype)

        group = column([np.repeat(np.array([k for k, q in enumerate(queries) if q.external], np.int64) + 1, n)],
                       np.int64)
        h = np.concatenate([ih, *(q.fps for q in ext)]).astype(np.int64)
        shape = column([q.shapes for q in ext], np.uint8)
        site = column([np.repeat([q.site for q in ext], n)], np.int64)
        uh = np.unique(h)
        stored = self.store.hash_stats(snap.con, uh)[np.searchsorted(uh, h)]
        stats = stored[:, :6].copy()
        e = group > 0  # an outside query's own row counts once more
        held = stats[:, 0] > 0
        stats[e, 0] += 1
        for col, flag in ((1, 1), (2, 2), (3, 3)):
            stats[e, col] += shape[e] == flag
        stats[e, 4] = np.where(held[e], np.minimum(stats[e, 4], site[e]), site[e])
        stats[e, 5] = np.where(held[e], np.maximum(stats[e, 5], site[e]), site[e])
        # indexed queries: the stored rules. Outside ones: the rules from the counts, by the call every write makes
        # (template.decide, then the user's texts, as candidates.postings applies them), then the frequency rule
        # as adding the query would leave it (index_frequency.apply), on its fingerprints and on its neighbours'
        rule = stored[:, 6].copy()
        rule[e] = self.store.decide(h[e], *stats[e].T)
        extra: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        cache = None
        if self.store.rules.frequency and e.any():
            # the rows of the outside queries' content fingerprints that other documents hold (up to max_df): what
            # the frequency step reads, and most of what the candidates read
            content = (stored[:, 6] == CONTENT) | (stored[:, 6] == FREQUENCY)
            cache = _RowCache(self.store, snap.con,
                              np.unique(h[e & content & (stored[:, 0] >= 1) & (stored[:, 0] <= self.config.max_df)]))
            for k, q in enumerate(queries):
                if not q.external:
                    continue
                sel = group == k + 1
                assert q.pos is not None
                own = np.stack([q.fps, np.full(q.fps.shape[0], q.doc, np.int64), q.pos], 1)
                out = frequency.apply(_CachedSource(snap.con, cache), frequency.Change(
                    h[sel], stored[sel, 0], stored[sel, 6], stored[sel, 7], stats[sel, 0], rule[sel], own,
                    np.empty((0, 3), np.int64), np.array([q.doc], np.int64), np.array([q.words], np.int64)))
                rule[sel] = out.rule
                flip = out.other_rule != out.other_rule_old
                if flip.any():
                    on = out.other_hashes[flip & (out.other_rule != CONTENT)]
                    off = out.other_hashes[flip & (out.other_rule == CONTENT)]
                    extra[k] = (np.sort(on.view(np.uint64)), np.sort(off.view(np.uint64)))
        return Decisions(group, h, rule.astype(np.uint8), stored[:, 6], stats, extra, cache)

    def candidates(self, snap: Snapshot, queries: Sequence[Query]) -> tuple[np.ndarray, Decisions]:
        """Candidate pair keys (document numbers, ``i < j``) with at least one query, as find proposes them on the
        indexed corpus (each outside query added to it alone), and the batch's template decisions."""
        cfg = self.config
        dec_ = self.decisions(snap, queries)
        anchors = np.unique(np.array([q.doc for q in queries], np.int64))
        found: list[np.ndarray] = []

        # fingerprints: the rows a pair can come from (content, in 2..max_df documents), anchored at the queries
        df = dec_.stats[:, 0]
        usable = (dec_.rule == CONTENT) & (df >= 2) & (df <= cfg.max_df)
        combo = np.flatnonzero(usable)
        if combo.shape[0]:
            need = np.unique(dec_.hash[combo])
            rows = dec_.rows.get(need) if dec_.rows is not None else self.store.fp_rows(snap.con, need)
            lo = np.searchsorted(rows[:, 0], dec_.hash[combo], "left")
            cnt = np.searchsorted(rows[:, 0], dec_.hash[combo], "right") - lo
            at = ranges(lo, cnt)
            key = np.repeat(combo, cnt)
            doc, pos = rows[at, 1], rows[at, 2]
            ext = dec_.group[combo] > 0  # an outside query's own row
            if ext.any():
                own_doc, own_pos = _own_rows(queries, dec_.group[combo[ext]] - 1, dec_.hash[combo[ext]])
                key = np.concatenate([key, combo[ext]])
                doc = np.concatenate([doc, own_doc])
                pos = np.concatenate([pos, own_pos])
            near = ~self._lone(snap, queries, dec_, key, doc, pos)
            key, doc, pos = key[near], doc[near], pos[near]
            order = np.lexsort((pos, doc))
            keys = np.arange(dec_.hash.shape[0], dtype=np.uint64)  # one number per (group, fingerprint)
            user = keys[np.isin(dec_.hash, self.store.user)] if self.store.user.shape[0] else None
            # counts given: the rows' shape flags are not needed
            post = postings(keys[key[order]], doc[order], pos[order], None, cfg.max_df, rules=self.store.rules,
                            user=user, stats=HashStats(keys, *dec_.stats.T), anchors=anchors)
            kept, _ = supported_pairs(post.pair_keys, post.pos_a, post.pos_b, cfg.rule.min_shared, cfg.rule.min_span,
                                      cfg.shingle_size, cfg.max_gap)
            found.append(kept)

        # LSH buckets: each outside query joins its buckets alone (after every indexed document)
        ext_q = [k for k, q in enumerate(queries) if q.external]
        ib = [q.bands for q in queries if not q.external]
        ikeys = np.unique(np.concatenate(ib)) if ib else np.empty(0, np.int64)
        e_len = np.array([queries[k].bands.shape[0] for k in ext_q], np.int64)
        bkey = np.concatenate([ikeys, *(queries[k].bands for k in ext_q)]).astype(np.int64)
        if bkey.shape[0]:
            bgroup = np.concatenate([np.zeros(ikeys.shape[0], np.int64),
                                     np.repeat(np.array(ext_q, np.int64) + 1, e_len)])
            rows = self.store.band_rows(snap.con, np.unique(bkey))
            lo = np.searchsorted(rows[:, 0], bkey, "left")
            cnt = np.searchsorted(rows[:, 0], bkey, "right") - lo
            bucket = np.concatenate([np.repeat(np.arange(bkey.shape[0]), cnt), np.flatnonzero(bgroup > 0)])
            member = np.concatenate([rows[ranges(lo, cnt), 1],
                                     np.array([queries[g - 1].doc for g in bgroup[bgroup > 0].tolist()], np.int64)])
            got = lsh_pairs(bucket.astype(np.uint64), member, cfg.max_bucket)
            i, j = split_keys(got)
            found.append(got[np.isin(i, anchors) | np.isin(j, anchors)])
        keys = np.unique(np.concatenate(found)) if found else np.empty(0, np.uint64)
        return keys, dec_

    def _lone(self, snap: Snapshot, queries: Sequence[Query], dec_: Decisions, key: np.ndarray, doc: np.ndarray,
              pos: np.ndarray) -> np.ndarray:
        """Which candidate rows (``key``: a (group, fingerprint) row of ``dec_``; document; position) are common
        fingerprints alone in their document (:func:`doublet.candidates.lone_rows`), as find decides it on the
        indexed corpus (each outside query added to it alone): the rows of every fingerprint held by more than
        ``common_df`` documents, and content by every rule but the frequency rule (find's pending rows), of each
        document holding one of the candidate rows' common fingerprints are read back."""
        cfg = self.config
        df = dec_.stats[:, 0]
        out = np.zeros(key.shape[0], bool)
        cand = common(df[key], cfg.max_df, cfg.common_df)
        if not self.store.rules.frequency or not cand.any():  # find settles common rows with the frequency rule
            return out
        eligible_rule = (CONTENT, FREQUENCY)
        for g in np.unique(dec_.group[key[cand]]).tolist():
            sel = cand & (dec_.group[key] == g)
            q = queries[g - 1] if g > 0 else None
            stored_docs = np.unique(doc[sel])
            if q is not None:
                stored_docs = stored_docs[stored_docs != q.doc]
            h, d, p = frequency.StoredSource(snap.con).prints(stored_docs)
            uh = np.unique(h)
            st = self.store.hash_stats(snap.con, uh)[np.searchsorted(uh, h)] if h.shape[0] else np.zeros((0, 8),
                                                                                                       np.int64)
            hdf, hrule = st[:, 0].copy(), st[:, 6].copy()
            if q is not None:  # the outside query's own rows, and its counts and rules on the hashes it holds
                mine = dec_.group == g
                at = np.searchsorted(dec_.hash[mine], h)
                at = np.minimum(at, max(0, int(mine.sum()) - 1))
                held = dec_.hash[mine][at] == h if mine.any() else np.zeros(h.shape[0], bool)
                hdf[held] = df[mine][at[held]]
                hrule[held] = dec_.rule[mine][at[held]]
                assert q.pos is not None
                h = np.concatenate([h, q.fps])
                d = np.concatenate([d, np.full(q.fps.shape[0], q.doc, np.int64)])
                p = np.concatenate([p, q.pos.astype(np.int64)])
                order = np.searchsorted(dec_.hash[mine], q.fps)
                hdf = np.concatenate([hdf, df[mine][order]])
                hrule = np.concatenate([hrule, dec_.rule[mine][order]])
            keep = common(hdf, cfg.max_df, cfg.common_df) & np.isin(hrule, eligible_rule)
            d, p = d[keep], p[keep]
            lone = lone_rows(d, p, cfg.rule.passage_words)
            # (document, position) names a row: a position holds one fingerprint
            out[np.flatnonzero(sel)] = np.isin(pair_keys(doc[sel], pos[sel]), pair_keys(d[lone], p[lone]))
        return out

    # --- verification

    def prepared(self, snap: Snapshot, rowids: Iterable[int]) -> dict[int, Prepared]:
        """Prepared indexed documents (cached), masked by the index's template set.

        A cached document stays valid across writes while its text (stored hash) and the template hashes among
        its fingerprints are unchanged; it is checked again after every write."""
        out: dict[int, Prepared] = {}
        missing: list[int] = []
        stale: list[int] = []
        for r in rowids:
            got = self._cache.get(r)
            if got is None:
                missing.append(r)
                continue
            self._cache.move_to_end(r)
            if got.gen == self._gen:
                out[r] = got.prepared
            else:
                stale.append(r)
        if stale:
            shas = self.store.shas(snap.con, stale)
            for r in stale:
                got = self._cache[r]
                if shas.get(r) == got.sha and np.array_equal(_hits(got.prepared.view.fp_hashes, self._templates),
                                                             got.hits):
                    self._cache[r] = _Cached(self._gen or "", got.sha, got.hits, got.prepared)
                    out[r] = got.prepared
                else:
                    missing.append(r)
        if missing:
            for r, body in self.store.texts(snap.con, missing).items():
                p = prepare(dec(body), self.config, self._templates)
                self._cache[r] = _Cached(self._gen or "", sha(body), _hits(p.view.fp_hashes, self._templates), p)
                out[r] = p
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def masked(self, text: str, fps_templ: np.ndarray) -> Prepared:
        """A text prepared with the given template hashes (sorted uint64)."""
        return prepare(text, self.config, fps_templ)

    def compare(self, snap: Snapshot, queries: Sequence[Query], keys: np.ndarray,
                dec_: Decisions) -> dict[int, list[tuple[PairResult, bool]]]:
        """Verify the candidates of each query with find's stage functions; reporting pairs per query index, with
        whether the query is the pair's ``a``."""
        cfg = self.config
        ci, cj = split_keys(keys)
        others: dict[int, list[int]] = {}
        index_of = {q.doc: k for k, q in enumerate(queries)}
        outside = {q.doc for q in queries if q.external}
        for i, j in zip(ci.tolist(), cj.tolist()):  # an outside query is nobody else's match
            if i in index_of and j not in outside:
                others.setdefault(index_of[i], []).append(j)
            if j in index_of and i not in outside:
                others.setdefault(index_of[j], []).append(i)
        stored_docs = {d for ds in others.values() for d in ds} | {q.doc for q in queries if not q.external}
        names = self.store.names(snap.con, stored_docs)
        prep = self.prepared(snap, sorted(stored_docs))
        out: dict[int, list[tuple[PairResult, bool]]] = {}
        for k in sorted(others):
            q = queries[k]
            if q.external:  # the query's own templates; what it turns template or content in the others
                t_hash, _, on, off = dec_.of(k)
                pq = self.masked(q.text, t_hash)
                flips = np.union1d(on, off)
            else:
                pq, flips = prep[q.doc], np.empty(0, np.uint64)
            res: list[tuple[PairResult, bool]] = []
            for r in others[k]:
                pm = prep[r]
                if flips.shape[0] and np.isin(pm.view.fp_hashes, flips).any():
                    pm = self.masked(pm.text, np.setdiff1d(np.union1d(_hits(pm.view.fp_hashes, self._templates),
                                                                      _hits(pm.view.fp_hashes, on)), off))
                mid = names[r]
                if q.id <= mid:
                    pair, a_is_query = compare_prepared(q.id, mid, pq, pm, cfg), True
                else:
                    pair, a_is_query = compare_prepared(mid, q.id, pm, pq, cfg), False
                if pair.kind is not None:
                    res.append((pair, a_is_query))
            if res:
                out[k] = res
        return out

    def search(self, snap: Snapshot, batch: Sequence[Document]) -> list[list[Match]]:
        """The matches of each document of a batch (best first)."""
        self.refresh(snap)
        queries = self.queries(snap, batch)
        keys, dec_ = self.candidates(snap, queries)
        found = self.compare(snap, queries, keys, dec_)
        out = []
        for k, d in enumerate(batch):
            ms = [Match.from_pair(r, d.id, a_is_query) for r, a_is_query in found.get(k, [])]
            ms.sort(key=lambda m: (-m.containment_query, -m.jaccard, m.match))
            out.append(ms)
        return out

    # --- whole-index answers

    def pairs(self, snap: Snapshot, batch_size: int) -> list[PairResult]:
        """Every reporting pair among the indexed documents, sorted by (a, b): find's ``pairs.jsonl``."""
        self.refresh(snap)
        con = snap.con
        rowids = [int(r) for (r,) in con.execute("SELECT doc FROM docs ORDER BY doc")]
        keys: list[np.ndarray] = []
        for lo in range(0, len(rowids), batch_size):
            queries = self.indexed(snap, rowids[lo:lo + batch_size])
            keys.append(self.candidates(snap, queries)[0])
        cand = np.unique(np.concatenate(keys)) if keys else np.empty(0, np.uint64)
        names = self.store.names(con, rowids)
        pi, pj = split_keys(cand)
        ordered = sorted(((names[i], names[j]) if names[i] < names[j] else (names[j], names[i]))
                         for i, j in zip(pi.tolist(), pj.tolist()))
        rowid_of = {v: k for k, v in names.items()}
        old_size, self.cache_size = self.cache_size, max(self.cache_size, min(len(names), 16384))
        out: list[PairResult] = []
        try:
            for lo in range(0, len(ordered), 2000):
                part = ordered[lo:lo + 2000]
                prep = self.prepared(snap, {rowid_of[a] for a, _ in part} | {rowid_of[b] for _, b in part})
                for a, b in part:
                    r = compare_prepared(a, b, prep[rowid_of[a]], prep[rowid_of[b]], self.config)
                    if r.kind is not None:
                        out.append(r)
        finally:
            self.cache_size = old_size
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def cluster(self, snap: Snapshot, doc_id: str, max_members: int, batch_size: int) -> IndexCluster:
        """The cluster of copies holding ``doc_id``, found by searching outward from it: every member and every
        document paired with a member is searched, until the members' cluster no longer grows. The edges that
        decide a member's cluster — its copy pairs, its own strongest link and its neighbours' strongest links —
        are then all known, so the cluster is exactly find's."""
        self.refresh(snap)
        con = snap.con
        row = con.execute("SELECT doc FROM docs WHERE id = ?", (doc_id.encode("utf-8", "surrogatepass"),)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        rowid_of = {doc_id: int(row[0])}
        pairs: dict[tuple[str, str], PairResult] = {}
        searched: set[str] = set()
        todo = [doc_id]
        members = [doc_id]
        complete = True
        while todo:
            for lo in range(0, len(todo), batch_size):
                part = todo[lo:lo + batch_size]
                queries = self.indexed(snap, [rowid_of[m] for m in part])
                keys, dec_ = self.candidates(snap, queries)
                for found in self.compare(snap, queries, keys, dec_).values():
                    for pair, _ in found:
                        pairs[(pair.a, pair.b)] = pair
                searched.update(part)
            members = _cluster_of(doc_id, pairs)
            if len(members) > max_members:
                members, complete = members[:max_members], False
                break
            nodes = set(members) | {x for p in pairs.values() if p.a in members or p.b in members for x in (p.a, p.b)}
            todo = sorted(nodes - searched)
            missing = [m for m in todo if m not in rowid_of]
            if missing:
                rowid_of.update({dec(i): int(r) for r, i in con.execute(
                    f"SELECT doc, id FROM docs WHERE id IN ({','.join('?' * len(missing))})",
                    [m.encode("utf-8", "surrogatepass") for m in missing]).fetchall()})
        ids = sorted(members)
        pos = {m: k for k, m in enumerate(ids)}
        kept = sorted((p for p in pairs.values() if p.a in pos and p.b in pos), key=lambda p: (p.a, p.b))
        i = np.array([pos[p.a] for p in kept], np.int64)
        j = np.array([pos[p.b] for p in kept], np.int64)
        dup = np.array([p.kind == "near-duplicate" for p in kept], bool)
        me = pos[doc_id]
        name = min(ids)
        return IndexCluster(doc_id, name, cluster_ids(ids, i[dup], j[dup])[me], ids, kept, complete)

    def templates(self, snap: Snapshot) -> tuple[Templates, list[str]]:
        """The index's template fingerprints (``doc`` = position in order of first addition) and the ids in that
        order (as find's Templates and ids)."""
        con = snap.con
        rows = con.execute("SELECT doc, id FROM docs ORDER BY doc").fetchall()
        rowids = np.array([r for r, _ in rows], np.int64)
        t = self.store.templates(con)
        return (Templates(t.hashes, t.rule, t.df, np.searchsorted(rowids, t.doc).astype(np.int64), t.pos),
                [dec(i) for _, i in rows])

    def template_report(self, snap: Snapshot) -> tuple[dict[str, Any], list[dict]]:
        """The template fingerprints by rule (find's ``summary["templates"]``) and the template blocks, computed
        once per generation per process (the blocks read and tokenize each block's example document)."""
        def load() -> tuple[dict[str, Any], list[dict]]:
            t, ids = self.templates(snap)
            rowids = [r for (r,) in snap.con.execute("SELECT doc FROM docs ORDER BY doc")]
            texts = self.store.texts(snap.con, sorted({rowids[k] for k in np.unique(t.doc).tolist()}))
            listed = blocks(t, ids, lambda k: dec(texts[rowids[k]]), self.config.shingle_size, self.config.rule.window)
            return template_summary(t, len(listed)), listed

        return _REPORTS.get((self.store.path.resolve(), snap.created), snap.generation, load)

    def template_spans(self, snap: Snapshot, doc: Document) -> list[dict]:
        """The template words of a text, as character spans ``{"start", "end", "rule"}`` (whole runs of masked
        words): those of the indexed document it is, or, for an outside text, what it would mask if added."""
        self.refresh(snap)
        queries = self.queries(snap, [doc])
        q = queries[0]
        if q.external:
            t_hash, t_rule, _, _ = self.decisions(snap, queries).of(0)
        else:
            h, r = self.store.template_rules_of(snap.con, q.fps)
            t_hash, t_rule = h.view(np.uint64), r
        return template_spans(doc.text, self.config, t_hash, t_rule)


def _own_rows(queries: Sequence[Query], qk: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows (doc, pos) of outside queries ``qk`` for their hashes ``h``."""
    doc = np.empty(qk.shape[0], np.int64)
    pos = np.empty(qk.shape[0], np.int64)
    for k in np.unique(qk).tolist():
        sel = qk == k
        q = queries[k]
        doc[sel] = q.doc
        pos[sel] = q.pos[np.searchsorted(q.fps, h[sel])]  # type: ignore[index]
    return doc, pos


def _cluster_of(doc_id: str, pairs: dict[tuple[str, str], PairResult]) -> list[str]:
    """The members (sorted) of ``doc_id``'s cluster of copies among the pairs known so far."""
    ids = sorted({doc_id} | {x for ab in pairs for x in ab})
    pos = {m: k for k, m in enumerate(ids)}
    kept = list(pairs.values())
    i = np.array([pos[p.a] for p in kept], np.int64)
    j = np.array([pos[p.b] for p in kept], np.int64)
    strong, strength = copy_strength(kept)
    label = copy_clusters(ids, i, j, strong, strength, np.arange(len(ids)))
    me = label[pos[doc_id]]
    return [m for m, lab in zip(ids, label.tolist()) if lab == me]


def copy_strength(pairs: Sequence[PairResult]) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, whether it is a copy and how much (the larger containment, rounded as written), as the local
    engine gives them to :func:`doublet.cluster.copy_clusters`."""
    strength = np.array([max(round(p.containment_a, 4), round(p.containment_b, 4)) for p in pairs], np.float64)
    dup = np.array([p.kind == "near-duplicate" for p in pairs], bool)
    return dup | (strength >= COPY_SHARE), strength


def clusters(ids: Sequence[str], pairs: Sequence[PairResult]) -> list[dict[str, Any]]:
    """find's ``clusters.jsonl`` rows (without source attribution) from the reporting pairs of a corpus."""
    at = {x: k for k, x in enumerate(ids)}
    i = np.array([at[p.a] for p in pairs], np.int64)
    j = np.array([at[p.b] for p in pairs], np.int64)
    strong, strength = copy_strength(pairs)
    dup = np.array([p.kind == "near-duplicate" for p in pairs], bool)
    order = id_order(ids)
    index = copy_clusters(ids, i, j, strong, strength, order)
    dup_index = cluster_index(ids, i[dup], j[dup], order)
    sizes = Counter(index.tolist())
    return [{"id": x, "cluster": ids[c], "cluster_size": sizes[c], "near_duplicate_cluster": ids[d]}
            for x, c, d in zip(ids, index.tolist(), dup_index.tolist())]


__all__ = ["IndexCluster", "Match", "MatchPassage", "Query", "Searcher", "clusters", "copy_strength"]
