"""Candidate pairs from LSH buckets and from shared fingerprints, with document-frequency statistics.

Both work on flat NumPy arrays (one row per document-band or per fingerprint occurrence), sort once, and
turn every run of equal keys into the pairs of its rows with one kernel call (``_kernel.run_pairs``), for
LSH buckets and fingerprint postings alike.

Pairs are returned as ``(i, j)`` document indices with ``i < j``, encoded in one uint64 as ``i << 32 | j``
where convenient (:func:`pair_keys`, :func:`split_keys`).

The fingerprint rule (:func:`postings`, then :func:`supported_pairs`): two documents are a candidate when they
share at least ``min_shared`` fingerprints held by at most ``max_df`` documents, spread over at least
``min_passage_words`` words in one of them, counting only fingerprints that share a band of diagonals (offset
in one document minus offset in the other, within ``max_gap``) with another. Every engine and the index apply
it through these functions.

Common fingerprints (held by more than ``common_df`` documents, 50 by default) propose pairs only from documents where
another common fingerprint lies near them (:func:`lone_rows`): a stock phrase alone in a text is no evidence of
reuse, and its pairs grow with the square of its document frequency; a popular story reprinted hundreds of
times is common fingerprints side by side in every copy.

**One collection against another** (``doublet find NEW --against REFERENCE``): engines number the NEW documents
first and pass ``split`` (their count) to :func:`lsh_pairs`, :func:`postings` and :func:`settle`, which then make
only the pairs with one document below ``split`` and one at or above it — the same pair occurrences as without
it, restricted to those pairs, at a cost proportional to the NEW documents' rows (a fingerprint held by
REFERENCE documents only makes none). Everything else (document frequencies, templates, the frequency rule) is
counted over both groups, so every cross pair is judged exactly as a full ``find`` judges it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import _kernel
from .template import (CONTENT, DF_BUCKETS, FREQUENCY, OUTLIER_MIN_DF, OUTLIER_SHARE, POS_BUCKETS, USER, Rules,
                       Templates, decide, df_bucket, doc_histogram, outliers, own_text_span, pos_bucket, typical_df)


def common(df: np.ndarray, max_df: int, common_df: int) -> np.ndarray:
    """Which document frequencies make a fingerprint common and still able to propose pairs: ``common_df < df <=
    max_df`` (:attr:`doublet.config.Config.common_df`; such fingerprints propose pairs only where
    :func:`lone_rows` says they are not alone)."""
    df = np.asarray(df)
    return (df > common_df) & (df <= max_df)


def lone_rows(docs: np.ndarray, positions: np.ndarray, reach: int) -> np.ndarray:
    """Which rows (one per common fingerprint and document: document, word position) have no other row of the
    same document within ``reach`` words: the common fingerprints that propose no pair.

    Engines pass every common row of a document together (``reach`` = the shortest passage verification accepts
    alone, :attr:`doublet.config.CandidateRule.passage_words`, so that two common fingerprints of one reported
    passage always vouch for each other). Stock phrases ("said in a statement on Monday", held by hundreds of
    documents) mostly stand alone in a text; their pairs, which grow with the square of their document frequency,
    were most of a large corpus's pair occurrences and almost none of its candidates."""
    d = np.asarray(docs, np.int64)
    p = np.asarray(positions, np.int64)
    out = np.ones(d.shape[0], bool)
    if d.shape[0] < 2:
        return out
    order = np.lexsort((p, d))
    d, p = d[order], p[order]
    close = (d[1:] == d[:-1]) & (p[1:] - p[:-1] <= reach)
    near = np.zeros(d.shape[0], bool)
    near[1:] |= close
    near[:-1] |= close
    out[order] = ~near
    return out


def pair_keys(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Encode pairs ``i < j`` (document indices below 2**32) as sortable uint64 keys."""
    return (i.astype(np.uint64) << np.uint64(32)) | j.astype(np.uint64)


def split_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pair_keys`."""
    return (keys >> np.uint64(32)).astype(np.int64), (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c) pair, vectorized."""
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
    return offsets + np.arange(total, dtype=np.int64)


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal values in a sorted array."""
    if sorted_keys.shape[0] == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths = np.diff(np.r_[starts, sorted_keys.shape[0]])
    return starts, lengths


def _star_pairs(members: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each run, pairs of its first (smallest) member with every other member."""
    firsts = np.repeat(members[starts], lengths - 1)
    return pair_keys(firsts, members[ranges(starts + 1, lengths - 1)])


def lsh_pairs(keys: np.ndarray, docs: np.ndarray, max_bucket: int, *, split: int | None = None) -> np.ndarray:
    """Unique candidate pair keys from LSH band keys.

    ``keys[k]`` is the band key of document ``docs[k]`` (one entry per document and band). Documents whose keys
    agree share a bucket. Buckets of at most ``max_bucket`` documents yield all their pairs; larger ones (many
    exact copies of one text) yield a star from their smallest member, which keeps clusters intact while
    bounding the work.

    With ``split``, only the pairs of one document below ``split`` and one at or above it (of the pairs made
    without it), from the buckets that hold both kinds.
    """
    order = np.lexsort((docs, keys))
    k, d = keys[order], np.asarray(docs, np.int64)[order]
    starts, lengths = _runs(k)
    small = (lengths >= 2) & (lengths <= max_bucket)
    big = lengths > max_bucket
    if split is not None:  # buckets holding a NEW document (sorted by doc: it comes first) and a REFERENCE one
        mixed = (d[starts] < split) & (d[starts + lengths - 1] >= split) if starts.shape[0] else starts > 0
        small, big = small & mixed, big & mixed
    within, _, _ = run_pairs(starts[small], lengths[small], d, np.zeros(d.shape[0], np.uint32), split=split)
    star = _star_pairs(d, starts[big], lengths[big])
    if split is not None:
        star = star[cross_mask(star, split)]
    return np.unique(np.concatenate([np.frombuffer(within, np.uint64), star]))


def cross_mask(keys: np.ndarray, split: int) -> np.ndarray:
    """Which pair keys (``i < j``) have one document below ``split`` and the other at or above it."""
    i, j = split_keys(keys)
    return (i < split) & (j >= split)


def run_pairs(starts: np.ndarray, lengths: np.ndarray, docs: np.ndarray, pos: np.ndarray, *,
              anchors: np.ndarray | None = None, split: int | None = None) -> tuple[bytes, bytes, bytes]:
    """Pair occurrences (pair keys, position in the first document, in the second; as bytes of uint64, uint32,
    uint32) of every pair of rows within each run ``starts``/``lengths`` of rows (``docs``, ``pos``; a run's
    documents distinct and increasing). ``anchors`` (sorted documents): only pairs with at least one of them;
    ``split``: only pairs of one document below it and one at or above it. The one place pairs of a run are
    made."""
    starts, lengths = np.ascontiguousarray(starts, np.int64), np.ascontiguousarray(lengths, np.int64)
    docs, pos = np.ascontiguousarray(docs, np.int64), np.ascontiguousarray(pos, np.uint32)
    if split is not None:
        return _anchored_pairs(starts, lengths, docs, pos, docs < split, cross=True)
    if anchors is not None:
        return _anchored_pairs(starts, lengths, docs, pos, np.isin(docs, anchors))
    return _kernel.run_pairs(starts, lengths, docs, pos)


@dataclass(frozen=True, slots=True)
class HashStats:
    """What decides whether a fingerprint is a template, per distinct hash (see :mod:`doublet.template`):
    documents holding it, how many of them show it shape-flagged, and the smallest and largest site number
    among them (0 = a document without a site). Engines that count these elsewhere (Spark's aggregations, the
    index's table) pass them to :func:`postings`; otherwise it counts them from the rows."""

    hashes: np.ndarray  # sorted unique uint64
    df: np.ndarray  # int64
    votes: np.ndarray  # int64: documents showing it template-shaped
    weak: np.ndarray  # int64: documents showing it in their end zone only
    tail: np.ndarray  # int64: documents showing it in their tail paragraph only
    site_lo: np.ndarray  # int64
    site_hi: np.ndarray  # int64

    def lookup(self, h: np.ndarray) -> tuple[np.ndarray, ...]:
        """df, votes, weak, tail, site_lo, site_hi of each hash in ``h`` (all must be present)."""
        k = np.searchsorted(self.hashes, h)
        return self.df[k], self.votes[k], self.weak[k], self.tail[k], self.site_lo[k], self.site_hi[k]


@dataclass(frozen=True, slots=True)
class Postings:
    """What the fingerprints of one hash partition say: pair occurrences, templates, document frequencies."""

    pair_keys: np.ndarray  # one uint64 pair key per fingerprint the two documents share (repeats = count)
    pos_a: np.ndarray  # uint32: where that fingerprint starts (word index) in the pair's first document
    pos_b: np.ndarray  # uint32: ... and in its second document
    templates: Templates  # fingerprints judged template (masked; they propose no pair), with their rule
    df_histogram: Counter  # distinct fingerprints: df 1, content 2..max_df, content > max_df, template
    pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    """Content fingerprints held by ``defer_min_df`` documents or more, left for :func:`settle` (the frequency
    rule needs every document's typical df first): (hash, doc, position) of each one's first occurrence in each
    of its documents, grouped by hash."""
    doc_buckets: tuple[np.ndarray, None] | None = None
    """The documents' df histograms, for :func:`doublet.template.typical_df`: one key ``doc * DF_BUCKETS +
    df_bucket(df)`` per content fingerprint of each document (keys repeat; counts None: each counts 1, as
    :func:`doublet.template.doc_histogram` adds them)."""
    doc_own: tuple[np.ndarray, None] | None = None
    """Where each document's own text lies, for :func:`doublet.template.own_text_span`: one key ``doc *
    POS_BUCKETS + pos_bucket(pos)`` per content fingerprint held by fewer than ``defer_min_df`` documents
    (counts None, as ``doc_buckets``)."""


_FLAG_BITS = np.uint32(3 << 30)


def postings(hashes: np.ndarray, docs: np.ndarray, positions: np.ndarray, shape: np.ndarray | None, max_df: int,
             *, rules: Rules = Rules(), site_of_doc: np.ndarray | None = None, user: np.ndarray | None = None,
             stats: HashStats | None = None, defer_min_df: int | None = None,
             n_words: np.ndarray | None = None, anchors: np.ndarray | None = None,
             split: int | None = None) -> Postings:
    """Shared fingerprints of a set of (hash, document, position, shape flag) rows holding *every* row of the
    hashes it contains (or, with ``stats``, every row a pair can come from: the first ``max_df + 1`` documents
    of each hash, with the counts over all of them in ``stats``).

    A fingerprint's document frequency (df) is the number of distinct documents holding it; its template rule
    is decided by :func:`doublet.template.decide` from its df, its shape votes (a document votes with the flag
    of its first occurrence) and its sites (``site_of_doc[doc]``: 1, 2, ...; 0 = unknown), and ``user`` hashes
    (sorted) are templates whatever they look like. Content fingerprints found in 2..``max_df`` documents yield
    one pair occurrence per pair of their documents, with the fingerprint's position in each (its first
    position when a document repeats it); above ``max_df`` they yield none (a cost bound). Rows must come in
    (document, position) order, as engines produce them.

    With ``defer_min_df`` (the frequency rule on: engines pass ``template.OUTLIER_MIN_DF``) and the documents'
    lengths ``n_words``, content fingerprints held by that many documents or more yield no pairs here: their
    rows go to ``pending`` and, once every document's typical df and own-text span are known (from
    ``doc_buckets`` and ``doc_own`` of every partition), :func:`settle` decides them. Without ``n_words``, only
    ``pending`` is returned: an engine that keeps only some rows of a hash (``stats``) counts the documents'
    histograms over all rows itself (the Spark engine: with :func:`doublet.template.df_bucket` and
    :func:`doublet.template.pos_bucket`, as here).

    ``anchors`` (sorted document numbers): only the pair occurrences of pairs with at least one anchor document
    are made — the same occurrences as without it, restricted to those pairs, at a cost proportional to the
    anchors' rows instead of the square of each hash's documents (the index asks about a few documents at a
    time). ``split``: only the pairs of one document below it and one at or above it (the *against* mode, see
    the module doc). Templates and the histogram depend on neither.
    """
    packed = np.ascontiguousarray(positions, np.uint32) if shape is None else pack_shape(positions, shape)
    # rows come in (doc, position) order, so grouping by hash, stably, puts each hash's rows together in (doc,
    # position) order (the hashes themselves in no useful order: grouping is cheaper than sorting)
    h, d, p = _kernel.group_rows(np.ascontiguousarray(hashes, np.uint64), np.ascontiguousarray(docs, np.uint32),
                                packed)
    h, d, p = np.frombuffer(h, np.uint64), np.frombuffer(d, np.uint32).astype(np.int64), np.frombuffer(p, np.uint32)
    keep = np.r_[True, (h[1:] != h[:-1]) | (d[1:] != d[:-1])][: h.shape[0]]  # one occurrence per (hash, doc)
    h, d, p = h[keep], d[keep], p[keep]
    p, flag = unpack_shape(p)
    starts, runs = _runs(h)
    if stats is not None:
        df, votes, weak, tail, site_lo, site_hi = stats.lookup(h[starts])
    else:
        df = runs
        by_flag = np.bincount(np.repeat(np.arange(starts.shape[0], dtype=np.int64) * 4, runs) + flag,
                              minlength=4 * starts.shape[0]).reshape(-1, 4)  # documents per hash and flag
        votes, weak, tail = by_flag[:, 1], by_flag[:, 2], by_flag[:, 3]
        if site_of_doc is not None and starts.shape[0]:
            site = np.asarray(site_of_doc, np.int64)[d]
            site_lo, site_hi = np.minimum.reduceat(site, starts), np.maximum.reduceat(site, starts)
        else:
            site_lo = site_hi = np.zeros(starts.shape[0], np.int64)
    rule = decide(df, votes, weak, tail, site_lo, site_hi, rules)
    if user is not None and user.shape[0]:
        rule[(rule == CONTENT) & np.isin(h[starts], user)] = USER
    templ = rule != CONTENT
    deferred = ~templ & (df >= defer_min_df) if defer_min_df is not None else np.zeros(df.shape[0], bool)
    usable = ~templ & (df >= 2) & (df <= max_df) & ~deferred
    mid = ~templ & (df >= 2) & (df <= max_df)  # content, pending or not (settle moves its templates)
    hist = Counter({"df=1": int(((df == 1) & ~templ).sum()), f"df=2..{max_df}": int(mid.sum()),
                    f"df>{max_df}": int((~templ & (df > max_df)).sum()), "template": int(templ.sum())})
    keys, pos_a, pos_b = run_pairs(starts[usable], runs[usable], d, p, anchors=anchors, split=split)
    t_at = starts[templ]
    order = np.argsort(h[t_at])
    t_at = t_at[order]
    found = Templates(h[t_at], rule[templ][order], df[templ][order].astype(np.int64), d[t_at], p[t_at])
    pending = doc_buckets = doc_own = None
    if defer_min_df is not None:
        rows = np.repeat(deferred, runs)
        pending = (h[rows], d[rows], p[rows])
    if defer_min_df is not None and n_words is not None:
        content = np.repeat(~templ, runs)
        doc_buckets = (d[content] * DF_BUCKETS + np.repeat(df_bucket(df), runs)[content], None)
        own = np.repeat(~templ & ~deferred, runs)
        doc_own = (d[own] * POS_BUCKETS + pos_bucket(p[own], np.asarray(n_words)[d[own]]), None)
    return Postings(np.frombuffer(keys, np.uint64), np.frombuffer(pos_a, np.uint32), np.frombuffer(pos_b, np.uint32),
                    found, hist, pending, doc_buckets, doc_own)


def settle(hashes: np.ndarray, docs: np.ndarray, positions: np.ndarray, typical: np.ndarray | None,
           own_lo: np.ndarray | None, own_hi: np.ndarray | None, n_words: np.ndarray | None, max_df: int, *,
           counts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, lone: np.ndarray | None = None,
           split: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, Templates]:
    """The frequency rule on the fingerprints :func:`postings` left pending, and their pairs.

    Rows are ``pending`` rows (grouped by hash, one per document); ``typical[doc]``, ``own_lo[doc]``,
    ``own_hi[doc]`` and ``n_words[doc]`` are every document's typical df (:func:`doublet.template.typical_df`),
    own-text span (:func:`doublet.template.own_text_span`) and length in words. A fingerprint whose
    occurrences are :func:`doublet.template.outliers` in at least ``OUTLIER_SHARE`` of its documents is a
    template (``FREQUENCY``); the others yield their pair occurrences (up to ``max_df`` documents). Engines
    that keep only some rows of a hash pass ``counts`` = (sorted hashes, df, outlier documents) over all of
    them (counted with :func:`doublet.template.outliers`; the documents' arrays are not needed then). ``lone``
    (one flag per row, from :func:`lone_rows` over every common row of each document): rows that count for
    their fingerprint's df and rule but propose no pair. ``split``: as :func:`postings`'. Returns (pair keys,
    pos_a, pos_b, templates)."""
    h = np.ascontiguousarray(hashes, np.uint64)
    d = np.asarray(docs, np.int64)
    p = np.ascontiguousarray(positions, np.uint32)
    starts, runs = _runs(h)
    if counts is not None:
        k = np.searchsorted(counts[0], h[starts])
        df, n_out = np.asarray(counts[1], np.int64)[k], np.asarray(counts[2], np.int64)[k]
    else:
        df = runs
        out = outliers(np.repeat(df, runs), np.asarray(typical)[d], pos_bucket(p, np.asarray(n_words)[d]),
                       np.asarray(own_lo)[d], np.asarray(own_hi)[d])
        n_out = np.add.reduceat(out.astype(np.int64), starts) if starts.shape[0] else np.empty(0, np.int64)
    templ = n_out >= OUTLIER_SHARE * df
    usable = ~templ & (df <= max_df)
    if lone is None:
        keys, pos_a, pos_b = run_pairs(starts[usable], runs[usable], d, p, split=split)
    else:  # the same runs without their lone rows
        take = np.repeat(usable, runs) & ~np.asarray(lone, bool)
        h2, d2, p2 = h[take], d[take], p[take]
        s2, r2 = _runs(h2)
        keys, pos_a, pos_b = run_pairs(s2, r2, d2, p2, split=split)
    t_at = starts[templ]
    found = Templates(h[t_at], np.full(t_at.shape[0], FREQUENCY, np.uint8), df[templ].astype(np.int64), d[t_at],
                      p[t_at])
    return np.frombuffer(keys, np.uint64), np.frombuffer(pos_a, np.uint32), np.frombuffer(pos_b, np.uint32), found


def pending_df(hashes: np.ndarray) -> np.ndarray:
    """The df of each pending row (rows grouped by hash, one per document, every document of the hash)."""
    _, runs = _runs(np.ascontiguousarray(hashes, np.uint64))
    return np.repeat(runs, runs)


def pending_lone(hashes: np.ndarray, docs: np.ndarray, positions: np.ndarray, max_df: int, common_df: int,
                 reach: int) -> np.ndarray:
    """:func:`lone_rows` flags of a complete set of pending rows (every row of every pending hash, grouped by
    hash): False for rows that are not common."""
    lone = np.zeros(np.asarray(hashes).shape[0], bool)
    c = common(pending_df(hashes), max_df, common_df)
    lone[c] = lone_rows(np.asarray(docs)[c], np.asarray(positions)[c], reach)
    return lone


def settled_histogram(hist: Counter, found: Templates, max_df: int) -> None:
    """Move the fingerprints :func:`settle` judged template (``found``) from their content class of a
    :func:`postings` histogram (``df=2..max_df`` or ``df>max_df``: postings counts a pending fingerprint as
    content) to ``template``, in place."""
    big = int((found.df > max_df).sum())
    hist["template"] += len(found)
    hist[f"df=2..{max_df}"] -= len(found) - big
    hist[f"df>{max_df}"] -= big


def _anchored_pairs(starts: np.ndarray, lengths: np.ndarray, docs: np.ndarray, pos: np.ndarray,
                    anchor: np.ndarray, cross: bool = False) -> tuple[bytes, bytes, bytes]:
    """What ``_kernel.run_pairs`` makes of the runs ``starts``/``lengths`` of rows (``docs``, ``pos``), restricted
    to pairs with at least one anchor row (``anchor``: one flag per row): each anchor row with every other row of
    its run, a pair of two anchor rows once (from the earlier row), or never with ``cross``."""
    rows = ranges(starts, lengths)
    run = np.repeat(np.arange(starts.shape[0], dtype=np.int64), lengths)
    a_rows, a_run = rows[anchor[rows]], run[anchor[rows]]
    x = np.repeat(a_rows, lengths[a_run])
    y = ranges(starts[a_run], lengths[a_run])
    keep = ~anchor[y] if cross else (y != x) & ~(anchor[y] & (y < x))
    x, y = x[keep], y[keep]
    first = docs[x] < docs[y]
    lo, hi = np.where(first, docs[x], docs[y]), np.where(first, docs[y], docs[x])
    pos_lo, pos_hi = np.where(first, pos[x], pos[y]), np.where(first, pos[y], pos[x])
    return (pair_keys(lo, hi).tobytes(), np.ascontiguousarray(pos_lo, np.uint32).tobytes(),
            np.ascontiguousarray(pos_hi, np.uint32).tobytes())


def pack_shape(positions: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Fingerprint positions (uint32) with each one's shape flag (0; 1 template-shaped, 2 end zone, 3 tail) in the
    top two bits, as engines spill them in :data:`FINGERPRINT_ROW` (positions are word indices, far below 2**30)."""
    return np.asarray(positions, np.uint32) | (np.asarray(shape, np.uint32) << np.uint32(30))


def unpack_shape(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pack_shape`: (positions uint32, shape flags uint8)."""
    packed = np.asarray(packed, np.uint32)
    return packed & ~_FLAG_BITS, (packed >> np.uint32(30)).astype(np.uint8)


OCCURRENCE = np.dtype([("pair", np.uint64), ("pos_a", np.uint32), ("pos_b", np.uint32)])
"""One pair occurrence as engines spill it: the pair key and the fingerprint's position in each document."""

FINGERPRINT_ROW = np.dtype([("hash", np.uint64), ("doc", np.uint32), ("pos", np.uint32)])
"""One fingerprint occurrence as engines spill it: hash, document index, position (word index) with the shape
flag in its top bit (:func:`pack_shape`)."""


def group_records(keys: np.ndarray, a: np.ndarray, b: np.ndarray, bits: int,
                  dtype: np.dtype = OCCURRENCE) -> tuple[np.ndarray, np.ndarray]:
    """Records ``(keys[i], a[i], b[i])`` (uint64, uint32, uint32, as ``dtype``) grouped by the top ``bits``
    bits of ``mix64(key)``, stably (so that every record of a key lands in the same group, in input order), and
    the ``2**bits + 1`` group offsets: how a worker spills pair occurrences or fingerprint rows to be read back
    one group at a time."""
    rec, bounds = _kernel.group_occurrences(np.ascontiguousarray(keys, np.uint64), np.ascontiguousarray(a, np.uint32),
                                            np.ascontiguousarray(b, np.uint32), bits)
    return np.frombuffer(rec, dtype), np.frombuffer(bounds, np.int64)


def grouped_occurrences(post: Postings, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The pair occurrences of ``post`` as :data:`OCCURRENCE` records grouped by pair (:func:`group_records`)."""
    return group_records(post.pair_keys, post.pos_a, post.pos_b, bits)


def supported_pairs(keys: np.ndarray, pos_a: np.ndarray, pos_b: np.ndarray, min_shared: int, min_span: int,
                    shingle_size: int, drift: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pair keys (sorted) whose shared fingerprints are evidence of a reused passage, and their counts.

    ``keys[k]`` is a pair sharing one fingerprint, found at word ``pos_a[k]`` of its first document and
    ``pos_b[k]`` of its second. A pair is kept when it shares at least ``min_shared`` fingerprints and they
    spread over at least ``min_span`` words (first fingerprint's first word to last fingerprint's last word)
    in one of the two documents. Two fingerprints a few words apart are one shared stock phrase ("said in a
    statement on Monday that the"), shorter than any passage worth reporting; a verbatim passage of 25 words
    always spreads its fingerprints over at least 15 (winnowing puts one in every window).

    With ``drift >= 0`` only fingerprints that share a band of diagonals with another count: sorted by diagonal
    ``pos_b - pos_a``, occurrences whose diagonals step by at most ``drift`` form a band (engines pass
    ``max_gap``, the widest insertion the alignment bridges), and an occurrence alone in its band is dropped
    before the count and spread tests. A reprinted passage keeps its fingerprints on one diagonal, shifted only
    by the edits inside it (sentences reprinted in another order: one band per sentence); stock phrases that two
    unrelated documents happen to share sit alone on unrelated diagonals, and verifying such pairs is where the
    time of a large corpus goes. The count returned is of all shared fingerprints. ``drift < 0`` turns the band
    rule off.
    """
    kept, counts = _kernel.supported(np.ascontiguousarray(keys, np.uint64), np.ascontiguousarray(pos_a, np.uint32),
                                     np.ascontiguousarray(pos_b, np.uint32), min_shared, min_span, shingle_size,
                                     drift)
    kept, counts = np.frombuffer(kept, np.uint64), np.frombuffer(counts, np.int64)
    order = np.argsort(kept)  # the kernel groups occurrences without sorting them; few pairs are kept
    return kept[order], counts[order]


@dataclass(frozen=True, slots=True)
class FingerprintCandidates:
    """Outcome of the fingerprint stage over a corpus."""

    pairs: np.ndarray  # uint64 pair keys with at least min_shared banded shared fingerprints, spread out enough
    shared: np.ndarray  # shared content fingerprints per pair
    template: np.ndarray  # sorted unique hashes judged template
    df_histogram: dict[str, int]  # distinct fingerprints: df 1, content 2..max_df, content > max_df, template


def fingerprint_pairs(hashes: np.ndarray, docs: np.ndarray, positions: np.ndarray, shape: np.ndarray | None,
                      max_df: int, min_shared: int, min_span: int, shingle_size: int, drift: int, *,
                      rules: Rules = Rules(), site_of_doc: np.ndarray | None = None,
                      n_words: np.ndarray | None = None, common_df: int = 50,
                      reach: int | None = None, split: int | None = None) -> FingerprintCandidates:
    """Pairs of documents sharing at least ``min_shared`` content fingerprints found in 2..``max_df`` documents,
    spread over at least ``min_span`` words, counting banded ones only (``drift``; in memory, engines use
    :func:`postings` per hash partition, :func:`settle` for the frequency rule and :func:`supported_pairs` per
    pair partition). The frequency rule applies when ``rules.frequency`` and the number of documents (``n_words``,
    one entry per document) is given; then common fingerprints (in more than ``common_df`` documents) alone in a
    document within ``reach`` words (default ``min_span``) propose no pair (:func:`lone_rows`). ``split``: only
    pairs across it (see the module doc)."""
    freq = rules.frequency and n_words is not None
    post = postings(hashes, docs, positions, shape, max_df, rules=rules, site_of_doc=site_of_doc,
                    defer_min_df=OUTLIER_MIN_DF if freq else None, n_words=n_words, split=split)
    keys, pos_a, pos_b, templates = post.pair_keys, post.pos_a, post.pos_b, post.templates
    if freq:
        assert post.pending is not None and post.doc_buckets is not None and post.doc_own is not None
        n = n_words.shape[0]
        typical = typical_df(doc_histogram(n, *post.doc_buckets))
        own_lo, own_hi = own_text_span(doc_histogram(n, *post.doc_own, POS_BUCKETS))
        ph, pd, pp = post.pending
        lone = pending_lone(ph, pd, pp, max_df, common_df, min_span if reach is None else reach)
        k2, a2, b2, t2 = settle(ph, pd, pp, typical, own_lo, own_hi, n_words, max_df, lone=lone, split=split)
        keys, pos_a, pos_b = np.r_[keys, k2], np.r_[pos_a, a2], np.r_[pos_b, b2]
        templates = Templates.concat([templates, t2])
        settled_histogram(post.df_histogram, t2, max_df)
    pairs, shared = supported_pairs(keys, pos_a, pos_b, min_shared, min_span, shingle_size, drift)
    return FingerprintCandidates(pairs, shared, templates.hashes, dict(post.df_histogram))
