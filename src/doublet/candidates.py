"""Candidate pairs from LSH buckets and from shared fingerprints, with document-frequency statistics.

Both functions work on flat NumPy arrays (one row per document-band or per fingerprint occurrence), sort
once, and turn runs of equal keys into pairs without a Python loop per pair: runs are grouped by their
size ``s`` and each group is expanded with one ``triu_indices(s)`` gather.

Pairs are returned as ``(i, j)`` document indices with ``i < j``, encoded in one uint64 as ``i << 32 | j``
where convenient (:func:`pair_keys`, :func:`split_keys`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np


def pair_keys(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Encode pairs ``i < j`` (document indices below 2**32) as sortable uint64 keys."""
    return (i.astype(np.uint64) << np.uint64(32)) | j.astype(np.uint64)


def split_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pair_keys`."""
    return (keys >> np.uint64(32)).astype(np.int64), (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal values in a sorted array."""
    if sorted_keys.shape[0] == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths = np.diff(np.r_[starts, sorted_keys.shape[0]])
    return starts, lengths


def _pairs_within_runs(members: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """All pairs of members inside each run (members ascending inside a run), as uint64 keys."""
    out = []
    for size in np.unique(lengths):
        if size < 2:
            continue
        sel = starts[lengths == size]
        block = members[sel[:, None] + np.arange(size)[None, :]]
        iu, ju = np.triu_indices(int(size), 1)
        out.append(pair_keys(block[:, iu].ravel(), block[:, ju].ravel()))
    return np.concatenate(out) if out else np.empty(0, np.uint64)


def _star_pairs(members: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each run, pairs of its first (smallest) member with every other member."""
    firsts = np.repeat(members[starts], lengths - 1)
    idx = np.concatenate([np.arange(s + 1, s + n) for s, n in zip(starts.tolist(), lengths.tolist())]) \
        if starts.size else np.empty(0, np.int64)
    return pair_keys(firsts, members[idx])


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
    parts = [_pairs_within_runs(d, starts[small], lengths[small]), _star_pairs(d, starts[big], lengths[big])]
    return np.unique(np.concatenate(parts))


@dataclass(frozen=True, slots=True)
class Postings:
    """What the fingerprints of one hash partition say: pair occurrences, boilerplate, document frequencies."""

    pair_keys: np.ndarray  # one uint64 pair key per fingerprint the two documents share (repeats = count)
    boilerplate: np.ndarray  # hashes found in more than max_df documents (sorted)
    df_histogram: Counter  # distinct fingerprints with df 1, 2..max_df, > max_df


def postings(hashes: np.ndarray, docs: np.ndarray, max_df: int) -> Postings:
    """Shared fingerprints of a set of (hash, document) rows holding *every* row of the hashes it contains.

    A fingerprint's document frequency (df) is the number of distinct documents holding it. Fingerprints
    found in 2..``max_df`` documents yield one pair occurrence per pair of their documents; those above
    ``max_df`` are boilerplate.
    """
    order = np.lexsort((docs, hashes))
    h, d = hashes[order], docs[order]
    keep = np.r_[True, (h[1:] != h[:-1]) | (d[1:] != d[:-1])][: h.shape[0]]  # one occurrence per (hash, doc)
    h, d = h[keep], d[keep]
    starts, df = _runs(h)
    boiler = df > max_df
    usable = (df >= 2) & ~boiler
    hist = Counter({"df=1": int((df == 1).sum()), f"df=2..{max_df}": int(usable.sum()),
                    f"df>{max_df}": int(boiler.sum())})
    return Postings(_pairs_within_runs(d, starts[usable], df[usable]), np.sort(h[starts[boiler]]), hist)


def count_pairs(keys: np.ndarray, min_shared: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pair keys occurring at least ``min_shared`` times, and their counts."""
    uniq, counts = np.unique(keys, return_counts=True)
    sel = counts >= min_shared
    return uniq[sel], counts[sel].astype(np.int64)


@dataclass(frozen=True, slots=True)
class FingerprintCandidates:
    """Outcome of the fingerprint stage over a corpus."""

    pairs: np.ndarray  # uint64 pair keys with at least min_shared shared fingerprints
    shared: np.ndarray  # shared non-boilerplate fingerprints per pair
    boilerplate: np.ndarray  # sorted unique hashes found in more than max_df documents
    df_histogram: dict[str, int]  # how many distinct fingerprints have df 1, 2-max_df, > max_df


def fingerprint_pairs(hashes: np.ndarray, docs: np.ndarray, max_df: int, min_shared: int) -> FingerprintCandidates:
    """Pairs of documents sharing at least ``min_shared`` fingerprints found in 2..``max_df`` documents
    (in memory; engines use :func:`postings` per partition and :func:`count_pairs` per pair partition)."""
    post = postings(hashes, docs, max_df)
    pairs, shared = count_pairs(post.pair_keys, min_shared)
    return FingerprintCandidates(pairs, shared, post.boilerplate, dict(post.df_histogram))
