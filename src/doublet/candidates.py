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
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import _kernel


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


def lsh_pairs(keys: np.ndarray, docs: np.ndarray, max_bucket: int) -> np.ndarray:
    """Unique candidate pair keys from LSH band keys.

    ``keys[k]`` is the band key of document ``docs[k]`` (one entry per document and band). Documents whose keys
    agree share a bucket. Buckets of at most ``max_bucket`` documents yield all their pairs; larger ones (many
    exact copies of one text) yield a star from their smallest member, which keeps clusters intact while
    bounding the work.
    """
    order = np.lexsort((docs, keys))
    k, d = keys[order], docs[order]
    starts, lengths = _runs(k)
    small = (lengths >= 2) & (lengths <= max_bucket)
    big = lengths > max_bucket
    within, _, _ = _kernel.run_pairs(np.ascontiguousarray(starts[small], np.int64),
                                     np.ascontiguousarray(lengths[small], np.int64), np.ascontiguousarray(d, np.int64),
                                     np.zeros(d.shape[0], np.uint32))  # positions unused here
    parts = [np.frombuffer(within, np.uint64), _star_pairs(d, starts[big], lengths[big])]
    return np.unique(np.concatenate(parts))


@dataclass(frozen=True, slots=True)
class Postings:
    """What the fingerprints of one hash partition say: pair occurrences, boilerplate, document frequencies."""

    pair_keys: np.ndarray  # one uint64 pair key per fingerprint the two documents share (repeats = count)
    pos_a: np.ndarray  # uint32: where that fingerprint starts (word index) in the pair's first document
    pos_b: np.ndarray  # uint32: ... and in its second document
    boilerplate: np.ndarray  # hashes found in more than max_df documents (sorted)
    df_histogram: Counter  # distinct fingerprints with df 1, 2..max_df, > max_df


def postings(hashes: np.ndarray, docs: np.ndarray, positions: np.ndarray, max_df: int) -> Postings:
    """Shared fingerprints of a set of (hash, document, position) rows holding *every* row of the hashes it
    contains.

    A fingerprint's document frequency (df) is the number of distinct documents holding it. Fingerprints
    found in 2..``max_df`` documents yield one pair occurrence per pair of their documents, with the
    fingerprint's position in each (its first position when a document repeats it); those above
    ``max_df`` are boilerplate. Rows must come in (document, position) order, as engines produce them.
    """
    # rows come in (doc, position) order, so grouping by hash, stably, puts each hash's rows together in (doc,
    # position) order (the hashes themselves in no useful order: grouping is cheaper than sorting)
    h, d, p = _kernel.group_rows(np.ascontiguousarray(hashes, np.uint64), np.ascontiguousarray(docs, np.uint32),
                                np.ascontiguousarray(positions, np.uint32))
    h, d, p = np.frombuffer(h, np.uint64), np.frombuffer(d, np.uint32).astype(np.int64), np.frombuffer(p, np.uint32)
    keep = np.r_[True, (h[1:] != h[:-1]) | (d[1:] != d[:-1])][: h.shape[0]]  # one occurrence per (hash, doc)
    h, d, p = h[keep], d[keep], p[keep]
    starts, df = _runs(h)
    boiler = df > max_df
    usable = (df >= 2) & ~boiler
    hist = Counter({"df=1": int((df == 1).sum()), f"df=2..{max_df}": int(usable.sum()),
                    f"df>{max_df}": int(boiler.sum())})
    keys, pos_a, pos_b = _kernel.run_pairs(np.ascontiguousarray(starts[usable], np.int64),
                                           np.ascontiguousarray(df[usable], np.int64), np.ascontiguousarray(d, np.int64),
                                           np.ascontiguousarray(p, np.uint32))
    return Postings(np.frombuffer(keys, np.uint64), np.frombuffer(pos_a, np.uint32), np.frombuffer(pos_b, np.uint32),
                    np.sort(h[starts[boiler]]), hist)


OCCURRENCE = np.dtype([("pair", np.uint64), ("pos_a", np.uint32), ("pos_b", np.uint32)])
"""One pair occurrence as engines spill it: the pair key and the fingerprint's position in each document."""

FINGERPRINT_ROW = np.dtype([("hash", np.uint64), ("doc", np.uint32), ("pos", np.uint32)])
"""One fingerprint occurrence as engines spill it: hash, document index, position (word index)."""


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
    shared: np.ndarray  # shared non-boilerplate fingerprints per pair
    boilerplate: np.ndarray  # sorted unique hashes found in more than max_df documents
    df_histogram: dict[str, int]  # how many distinct fingerprints have df 1, 2-max_df, > max_df


def fingerprint_pairs(hashes: np.ndarray, docs: np.ndarray, positions: np.ndarray, max_df: int, min_shared: int,
                      min_span: int, shingle_size: int, drift: int) -> FingerprintCandidates:
    """Pairs of documents sharing at least ``min_shared`` fingerprints found in 2..``max_df`` documents, spread
    over at least ``min_span`` words, counting banded ones only (``drift``; in memory, engines use
    :func:`postings` per hash partition and :func:`supported_pairs` per pair partition)."""
    post = postings(hashes, docs, positions, max_df)
    pairs, shared = supported_pairs(post.pair_keys, post.pos_a, post.pos_b, min_shared, min_span, shingle_size,
                                    drift)
    return FingerprintCandidates(pairs, shared, post.boilerplate, dict(post.df_histogram))
